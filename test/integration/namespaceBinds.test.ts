/**
 * The namespace's binds (src/stableCwd.ts), called directly: the child runs
 * at the stable path, sees the bound directory at its mount point, and a bind
 * whose directory is not the pinned one (swapped) gets a private tmpfs:
 * nothing the child writes there lands in the directory the path named.
 * (Written for a `mount --all` variant, issue 17 item 4, measured and dropped:
 * docs/benchmarks.md.)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bindFds, namespaceCwd, type Bind, type StableCwd } from '../../src/stableCwd.ts';
import { tempDir } from '../helpers/tmp.ts';

const probe = namespaceCwd('/', '/x');
const canNamespace = probe.kind === 'stable';

interface Shape {
  action: string;
  base: string;
  stable: StableCwd;
  store: string;
  at: string;
}

/** `<ob>/sandbox/linux-sandbox/1/execroot/ws` as the action, `<ob>/sandbox` hidden, a store named with a space and a `#`. */
function shape(): Shape {
  const ob = join(tempDir(), 'out base');
  const base = join(ob, 'sandbox');
  const action = join(base, 'linux-sandbox', '1', 'execroot', 'ws');
  mkdirSync(action, { recursive: true });
  writeFileSync(join(action, 'input.txt'), 'in');
  const store = join(ob, 'the #store');
  mkdirSync(store);
  writeFileSync(join(store, 'old-session'), 'kept');
  const plan = namespaceCwd(base, join(base, 'stable', 'execroot', 'ws'));
  if (plan.kind !== 'stable') throw new Error('no namespace');
  return { action, base, stable: plan.stable, store, at: join(base, 'stable', 'the #store') };
}

/** Runs `sh -c script` through the namespace, the pins as fd 3 on. */
function run(s: Shape, binds: Bind[], script: string, env: Record<string, string> = {}) {
  const [program, args] = s.stable.wrap('/bin/sh', ['-c', script], binds);
  return spawnSync(program, args, { cwd: s.action, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe', ...bindFds(binds)] });
}

describe.runIf(canNamespace)('the namespace\'s binds', () => {
  it(`the child runs at the stable path, sees the pinned store at its mount point and writes into it; no fd of ours reaches it`, () => {
    const s = shape();
    const pin = openSync(s.store, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const r = run(s, [{ real: s.store, at: s.at, fd: pin }], 'pwd; cat input.txt; echo; cat "$AT/old-session"; echo; echo new > "$AT/new"; ls /proc/self/fd | sort -n | tr "\\n" " "', { AT: s.at });
      expect(r.stderr.toString()).toBe('');
      expect(r.status).toBe(0);
      const [pwd, input, old, fds] = r.stdout.toString().split('\n');
      expect([pwd, input, old]).toEqual([join(s.base, 'stable', 'execroot', 'ws'), 'in', 'kept']);
      // 0-2, and the one ls opens to read /proc/self/fd (the lowest free: 3 unless ours leaked); fds far above are the test runner's own.
      expect(fds!.trim().split(' ').map(Number).filter((n) => n > 3 && n < 100)).toEqual([]);
      expect(readFileSync(join(s.store, 'new'), 'utf8')).toBe('new\n');
      // Nothing made in the real <ob>/sandbox: the mount points lie in the tmpfs.
      expect(readdirSync(s.base)).toEqual(['linux-sandbox']);
    } finally {
      closeSync(pin);
    }
  });

  it(`a bind whose directory is not the pinned one (swapped) gets a private tmpfs; nothing is written where the path led`, () => {
    const s = shape();
    const other = join(s.store, '..', 'elsewhere');
    mkdirSync(other);
    const pin = openSync(other, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const r = run(s, [{ real: s.store, at: s.at, fd: pin }], 'ls -A "$AT" | wc -l; echo new > "$AT/new"', { AT: s.at });
      expect(r.status, r.stderr.toString()).toBe(0);
      expect(r.stderr.toString()).toContain('changed while being bound');
      expect(r.stdout.toString().trim()).toBe('0');
      expect(existsSync(join(s.store, 'new'))).toBe(false);
      expect(readdirSync(other)).toEqual([]);
    } finally {
      closeSync(pin);
    }
  });
});
