/**
 * The store never fails or hangs a build (issue 15, item 5): every store
 * failure ends in one seedwrap line and a cold compile in a private directory
 * of its own, removed afterwards. Real rustc; real tmpfs mounts with few
 * inodes or little space, a read-only bind mount and chattr +i, each on a
 * directory this test made, unmounted (or the flag cleared) afterwards.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/wrapper.ts';
import { canNamespace, compile, crateDirsIn, haveRustc, RUSTC, rulesRustArgs, sandboxDir, writeCrate } from '../store/helpers.ts';
import { canChattr, canMount, isRoot, mountTmpfs, onCleanup, scratch, umount } from './helpers.ts';

const DEBUG = { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' };

function execroot(base: string): string {
  const dir = join(base, 'execroot', 'ws');
  writeCrate(dir);
  return dir;
}

/** The seedwrap lines of a run, debug lines apart. */
function ownLines(stderr: Buffer): string[] {
  return stderr.toString().split('\n').filter((l) => l.startsWith('seedwrap: ') && !l.startsWith('seedwrap: debug: '));
}

/** The one store debug line, parsed. */
function storeLine(stderr: Buffer): Record<string, unknown> {
  const lines = stderr.toString().split('\n').filter((l) => l.startsWith('seedwrap: debug: store '));
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!.slice('seedwrap: debug: store '.length)) as Record<string, unknown>;
}

/** A "rustc" that exits 101 the first time (after `first`), and is the real rustc after. */
function iceOnce(dir: string, first = 'true'): { path: string; env: Record<string, string> } {
  const path = join(dir, 'rustc-ice-once');
  writeFileSync(path, `#!/bin/sh\nif [ ! -e "$ICE_ONCE" ]; then : > "$ICE_ONCE"; ${first}; echo "error: the compiler unexpectedly panicked (fixture)" >&2; exit 101; fi\nexec ${RUSTC} "$@"\n`);
  chmodSync(path, 0o755);
  return { path, env: { ICE_ONCE: join(dir, 'ice-done') } };
}

function expectBuilt(dir: string): void {
  expect(readdirSync(join(dir, 'out'))).toContain('libapp.rlib');
}

describe.runIf(haveRustc)('a store failure costs speed, never the build', () => {
  for (const [what, tmp] of [['relative', 'tmp'], ['missing', '/nonexistent/seedwrap-tmp']] as const) {
    it(`an unusable store with TMPDIR ${what}: one line, a cold compile in a private directory, removed`, async () => {
      const base = scratch('store-tmpdir');
      const dir = execroot(base);
      writeFileSync(join(base, 'file'), '');
      // The built bundle as a real process: TMPDIR is the process's own.
      const r = await runBundle(rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${join(base, 'file', 'store')}` }), { cwd: dir, env: { ...DEBUG, HOME: process.env.HOME!, TMPDIR: tmp } });
      expect(r.exitCode, r.stderr.toString()).toBe(0);
      expect(ownLines(r.stderr)).toHaveLength(1);
      const line = storeLine(r.stderr);
      expect(line.mode).toBe('cold');
      expect(existsSync(line.dir as string)).toBe(false);
      expectBuilt(dir);
    });
  }

  it.runIf(canMount)('a store on a read-only mount is reported as EROFS, not ENOENT', async () => {
    const base = scratch('store-erofs');
    const dir = execroot(base);
    const ro = join(base, 'ro');
    mkdirSync(ro);
    execFileSync('mount', ['--bind', '-o', 'ro', ro, ro]);
    onCleanup(() => umount(ro));
    const store = join(ro, 'missing', 'store');
    const r = await compile(dir, rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${store}` }));
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(ownLines(r.stderr)).toEqual([`seedwrap: store ${store}: cannot be written (EROFS (${join(ro, 'missing')})); compiling from cold in a fresh incremental directory`]);
    expectBuilt(dir);
  });

    // Measured with rustc 1.95: at 2 inodes the store cannot be set up; at 3 and 5
  // rustc fails naming the crate or session directory; at 4 (the lock file)
  // its message names no path at all.
  for (const inodes of [2, 3, 4, 5, 8]) {
    it.runIf(canMount)(`a store out of inodes (tmpfs nr_inodes=${inodes}): one line, the build succeeds`, async () => {
      const base = scratch('store-inodes');
      const dir = execroot(base);
      const store = join(base, 'store');
      mountTmpfs(store, `size=8m,nr_inodes=${inodes}`);
      onCleanup(() => umount(store));
      const r = await compile(dir, rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${store}` }), { ...DEBUG, SEEDWRAP_STORE_MIN_FREE_MB: '0' });
      expect(r.exitCode, r.stderr.toString()).toBe(0);
      expect(ownLines(r.stderr), r.stderr.toString()).toHaveLength(1);
      expect(r.stderr.toString()).not.toMatch(/internal error/);
      expect(readdirSync(store).filter((n) => n.startsWith('.trash-'))).toEqual([]);
      expectBuilt(dir);
    });
  }

  it.runIf(canMount)('a retry after exit 101 that then fails on the store (it fills up): compiled from cold, the build succeeds', async () => {
    const base = scratch('store-101-full');
    const dir = execroot(base);
    const store = join(base, 'store');
    mountTmpfs(store, 'size=64k');
    onCleanup(() => umount(store));
    const ice = iceOnce(base);
    const args = rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${store}` }).map((a) => (a === RUSTC ? ice.path : a));
    const r = await compile(dir, args, { ...ice.env, SEEDWRAP_STORE_MIN_FREE_MB: '0' });
    expect(r.stderr.toString()).toMatch(/No space left on device/);
    expect(r.stderr.toString()).toMatch(/seedwrap: rustc could not use the store \S+ \(see above\); compiling once more from cold/);
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expectBuilt(dir);
  });

  it.runIf(isRoot && canChattr())('an exit-101 clean-up that cannot rename (chattr +i on the session): one line, a cold retry, the build succeeds', async () => {
    const base = scratch('store-101-eperm');
    const dir = execroot(base);
    const store = join(base, 'store');
    const args = rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${store}` });
    expect((await compile(dir, args)).exitCode).toBe(0);
    const [crate] = crateDirsIn(store);
    const session = readdirSync(crate!).find((n) => n.startsWith('s-') && !n.endsWith('.lock'))!;
    execFileSync('chattr', ['+i', join(crate!, session)]);
    onCleanup(() => void execFileSync('chattr', ['-R', '-i', base]));
    const ice = iceOnce(base);
    const r = await compile(dir, args.map((a) => (a === RUSTC ? ice.path : a)), ice.env);
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(ownLines(r.stderr)).toEqual([expect.stringMatching(/^seedwrap: rustc ended with an internal compiler error \(exit 101\) using the store; app's incremental state in \S+ could not be dropped, so compiling once more from cold in a fresh incremental directory$/)]);
    expectBuilt(dir);
  });
});

describe.runIf(haveRustc && canNamespace)('eight concurrent requests of one process (a multiplexed worker)', () => {
  it('with an unusable store, in one sandbox-shaped directory: each gets a cold directory of its own, all succeed', async () => {
    const ob = scratch('store-multiplex');
    const dir = sandboxDir(ob, 1);
    writeCrate(dir);
    writeFileSync(join(ob, 'file'), '');
    const args = rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${join(ob, 'file', 'store')}` });
    // Each its own --out-dir: eight rustcs writing one crate's rmeta into one directory race on rustc's own temp files, which no worker would be asked to do.
    for (let i = 0; i < 8; i++) mkdirSync(join(dir, `out-${i}`));
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => compile(dir, args.map((a) => (a === '--out-dir=out' ? `--out-dir=out-${i}` : a)))));
    for (const r of results) {
      expect(r.exitCode, r.stderr.toString()).toBe(0);
      expect(ownLines(r.stderr)).toHaveLength(1);
    }
    expect(readdirSync(dir).filter((n) => n.startsWith('.seedwrap-cold-'))).toEqual([]);
  });
});
