import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDir } from '../../src/fsSafe.ts';
import { evictCrates } from '../../src/store/evict.ts';
import { tempDir } from '../helpers/tmp.ts';
import { canNamespace, compile, crateDirsIn, haveRustc, rulesRustArgs, sandboxDir, writeCrate } from './helpers.ts';

const LOADED = ['-Zassert-incr-state=loaded'];
const META = ['--rustc-quit-on-rmeta', 'true'];

/** Every entry under the store's partitions whose name ends in -working, and every private copy left. */
function leftovers(store: string): string[] {
  const parts = readdirSync(store).filter((p) => /^[0-9a-f]{12}$/.test(p));
  const meta = parts.flatMap((p) => readdirSync(join(store, p)).filter((n) => n.startsWith('.seedwrap-meta-')).map((n) => join(p, n)));
  const working = crateDirsIn(store).flatMap((c) => readdirSync(c).filter((n) => n.endsWith('-working')).map((n) => join(c, n)));
  return [...meta, ...working];
}

/** bench/pipelining/findings.md, candidate c2; docs/pipelining.md. */
describe.runIf(haveRustc && canNamespace)('a metadata action that compiles itself works on a private copy of the session, real rustc', () => {
  it('loads the full compile\'s session after an edit, leaves no -working directory in the store, and the next full compile still loads its own', async () => {
    const ob = tempDir();
    const store = join(ob, 'rustc-incremental');
    const first = sandboxDir(ob, 1);
    writeCrate(first);
    const full = await compile(first, rulesRustArgs('app/lib.rs', 'app'));
    expect(full.stderr.toString()).toBe('');
    expect(full.exitCode).toBe(0);

    const edit = 'pub fn edited(x: u64) -> u64 { x + 1 }\n';
    const second = sandboxDir(ob, 2);
    writeCrate(second, edit);
    // No full action runs beside it: no producer, so it compiles itself.
    const meta = await compile(second, rulesRustArgs('app/lib.rs', 'app', { wrapper: META, rustc: LOADED }), { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' });
    const said = meta.stderr.toString();
    expect(said.split('\n').filter((l) => !l.startsWith('seedwrap: debug: ') && l !== '')).toEqual([]);
    expect(meta.exitCode).toBe(0);
    expect(readdirSync(join(second, 'out'))).toContain('libapp.rmeta');
    // Killed at its rmeta, rustc left a -working session: in the copy, removed with it.
    expect(leftovers(store)).toEqual([]);
    // The private copy was used: one session copied, under the store's partition as rustc sees it.
    expect(said).toMatch(/"meta":\{"dir":"[^"]*\/rustc-incremental\/[0-9a-f]{12}\/\.seedwrap-meta-\w{6}","sessions":1\}/);

    const third = sandboxDir(ob, 3);
    writeCrate(third, edit);
    const again = await compile(third, rulesRustArgs('app/lib.rs', 'app', { rustc: LOADED }));
    expect(again.stderr.toString()).toBe('');
    expect(again.exitCode).toBe(0);
    expect(leftovers(store)).toEqual([]);
  });
});

describe('eviction and private session copies', () => {
  function plantCopy(store: string, name: string): string {
    const crate = join(store, '0123456789ab', name, 'app-1abc');
    mkdirSync(join(crate, 's-abc-def-working'), { recursive: true });
    writeFileSync(join(crate, 's-abc-def-working', 'dep-graph.bin'), 'x');
    writeFileSync(join(crate, 's-abc-def.lock'), '');
    return crate;
  }

  it('a copy its wrapper left (killed) is swept once old, unless a live rustc holds a session in it', async () => {
    const store = tempDir();
    const now = Date.now();
    const stale = plantCopy(store, '.seedwrap-meta-AAAAAA');
    const held = plantCopy(store, '.seedwrap-meta-BBBBBB');
    const young = plantCopy(store, '.seedwrap-meta-CCCCCC');
    for (const n of ['AAAAAA', 'BBBBBB']) utimesSync(join(store, '0123456789ab', `.seedwrap-meta-${n}`), (now - 600_000) / 1000, (now - 600_000) / 1000);
    // A live process holding the session lock, as rustc does (flock).
    const holder = spawn('flock', ['--nonblock', join(held, 's-abc-def.lock'), 'sleep', '60'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const notes: string[] = [];
      withDir(store, (root) => evictCrates(root, { maxBytes: 1 << 30, protectMs: 60_000, now, note: (l) => notes.push(l) }));
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(join(store, '0123456789ab', '.seedwrap-meta-AAAAAA'))).toBe(false);
      expect(existsSync(held)).toBe(true);
      expect(existsSync(young)).toBe(true);
      // The copies are not reported as foreign entries.
      expect(notes.filter((l) => l.includes('.seedwrap-meta-'))).toEqual([]);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
