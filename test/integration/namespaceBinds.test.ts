/**
 * The namespace's binds (src/stableCwd.ts), both ways of making them: one
 * `mount --all` from an anonymous fstab (`start` with a pinned bind, issue 17
 * item 4) and one mount per bind (`wrap`, FSTAB `-`). Either way the child
 * runs at the stable path, sees the bound directory at its mount point, and a
 * bind whose directory is not the pinned one (swapped) gets a private tmpfs:
 * nothing the child writes there lands in the directory the path named.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bindFds, fstabFile, namespaceCwd, type Bind, type StableCwd } from '../../src/stableCwd.ts';
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

/** Runs `sh -c script` through the namespace; `how` picks start (fstab) or wrap (a mount per bind). */
function run(s: Shape, binds: Bind[], script: string, how: 'start' | 'wrap', env: Record<string, string> = {}) {
  const child = how === 'start' ? s.stable.start('/bin/sh', ['-c', script], binds) : (() => {
    const [program, args] = s.stable.wrap('/bin/sh', ['-c', script], binds);
    return { program, args, fds: bindFds(binds), close: () => {} };
  })();
  try {
    return spawnSync(child.program, child.args, { cwd: s.action, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe', ...child.fds] });
  } finally {
    child.close();
  }
}

describe('fstabFile', () => {
  it('lists `.` and each bind with X-mount.mkdir, whitespace, `#` and `\\` octal-escaped, in an unnamed file', () => {
    const dir = tempDir();
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const f = fstabFile('/s t/ws', [{ real: '/a b\\c#\n', at: '/s t/x', fd }]);
      expect(f).toBeDefined();
      expect(readlinkSync(`/proc/self/fd/${f}`)).toMatch(/\(deleted\)$/);
      expect(readFileSync(`/proc/self/fd/${f}`, 'utf8')).toBe('. /s\\040t/ws none bind,X-mount.mkdir 0 0\n/a\\040b\\134c\\043\\012 /s\\040t/x none bind,X-mount.mkdir 0 0\n');
      closeSync(f!);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  it('is undefined without a pinned bind (a mount per bind then)', () => {
    expect(fstabFile('/s', [{ real: '/a', at: '/b' }])).toBeUndefined();
    expect(fstabFile('/s', [])).toBeUndefined();
  });
});

describe.runIf(canNamespace)('the namespace\'s binds', () => {
  for (const how of ['start', 'wrap'] as const) {
    it(`${how}: the child runs at the stable path, sees the pinned store at its mount point and writes into it; no fd of ours reaches it`, () => {
      const s = shape();
      const pin = openSync(s.store, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        const r = run(s, [{ real: s.store, at: s.at, fd: pin }], 'pwd; cat input.txt; echo; cat "$AT/old-session"; echo; echo new > "$AT/new"; ls /proc/self/fd | sort -n | tr "\\n" " "', how, { AT: s.at });
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

    it(`${how}: a bind whose directory is not the pinned one (swapped) gets a private tmpfs; nothing is written where the path led`, () => {
      const s = shape();
      const other = join(s.store, '..', 'elsewhere');
      mkdirSync(other);
      const pin = openSync(other, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        const r = run(s, [{ real: s.store, at: s.at, fd: pin }], 'ls -A "$AT" | wc -l; echo new > "$AT/new"', how, { AT: s.at });
        expect(r.status, r.stderr.toString()).toBe(0);
        expect(r.stderr.toString()).toContain('changed while being bound');
        expect(r.stdout.toString().trim()).toBe('0');
        expect(existsSync(join(s.store, 'new'))).toBe(false);
        expect(readdirSync(other)).toEqual([]);
      } finally {
        closeSync(pin);
      }
    });
  }

  it('start without a pinned bind makes a mount per bind, and with one passes the fstab as the fd after the pins', () => {
    const s = shape();
    expect(s.stable.start('/bin/true', [], [{ real: s.store, at: s.at }]).fds).toEqual([]);
    const pin = openSync(s.store, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const started = s.stable.start('/bin/true', [], [{ real: s.store, at: s.at, fd: pin }]);
      expect(started.fds).toHaveLength(2);
      expect(started.fds[0]).toBe(pin);
      expect(started.args).toContain('/proc/self/fd/4');
      started.close();
    } finally {
      closeSync(pin);
    }
  });
});
