/**
 * The store's upkeep against entries planted in it (issue 15, items 1, 2 and
 * 5's locks): under linux-sandbox the store is a --sandbox_writable_path, so
 * any build script can put symlinks, FIFOs and foreign directories there, and a
 * later action (root, outside any sandbox) runs eviction and clean-up on them.
 * Real rustc, real files, real FIFOs and a real flock holder in its own PID
 * namespace. Each test's files are in its own temp directory.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BUNDLE, NODE } from '../helpers/wrapper.ts';
import { tempDir } from '../helpers/tmp.ts';
import { compile, copyRegistryCrate, crateDirsIn, haveRustc, RUSTC, rulesRustArgs, writeCrate } from './helpers.ts';
import { snapshot } from './snapshot.ts';

const DEBUG = { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' };
const EVICT = { SEEDWRAP_STORE_MAX_MB: '0' };
const hourAgo = () => Date.now() / 1000 - 3600;

/** An execroot with a crate, and an absolute store that a first compile has made (so seedwrap manages it). */
async function madeStore(): Promise<{ execroot: string; store: string; partition: string; args: (crate: string, extra?: string[]) => string[] }> {
  const base = tempDir();
  const execroot = join(base, 'execroot', 'ws');
  writeCrate(execroot);
  const store = join(base, 'store');
  const args = (crate: string, extra: string[] = []) => rulesRustArgs('app/lib.rs', crate, { incremental: `-Cincremental=${store}`, rustc: extra });
  const first = await compile(execroot, args('app'), DEBUG);
  expect(first.exitCode, first.stderr.toString()).toBe(0);
  const partition = JSON.parse(/seedwrap: debug: store (\{.*\})\n/.exec(first.stderr.toString())![1]!).dir as string;
  return { execroot, store, partition, args };
}

/** A tree outside the store, every directory an hour old (older than any protection window). */
function outsideTree(): string {
  const outside = tempDir('seedwrap-outside-');
  for (const d of ['app-precious', 'old-1', 'old-2/deeper']) {
    mkdirSync(join(outside, d), { recursive: true });
    writeFileSync(join(outside, d, 'data'), `precious ${d}\n`.repeat(100));
  }
  writeFileSync(join(outside, 'victim'), 'do not truncate\n');
  for (const p of ['app-precious', 'old-1', 'old-2/deeper', 'old-2', 'victim', '.']) utimesSync(join(outside, p), hourAgo(), hourAgo());
  return outside;
}

function storeLines(stderr: Buffer): string[] {
  return stderr.toString().split('\n').filter((l) => l.startsWith('seedwrap: debug: store '));
}

/** The built bundle as a real process, killed after `ms` (a FIFO's open blocks the whole process). */
async function bundle(cwd: string, args: string[], env: Record<string, string>, ms = 90_000) {
  const r = await execa(NODE, ['--', BUNDLE, ...args], { cwd, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, RUSTC_BOOTSTRAP: '1', ...env }, extendEnv: false, reject: false, timeout: ms, encoding: 'utf8' });
  return { exitCode: r.exitCode, timedOut: r.timedOut, stderr: r.stderr };
}

describe.runIf(haveRustc)('store upkeep never follows a link and never opens what it did not expect', () => {
  it('a partition entry that is a symlink to another directory: eviction does not walk through it', async () => {
    const { execroot, store, args } = await madeStore();
    const outside = outsideTree();
    const before = snapshot(outside);
    symlinkSync(outside, join(store, 'abcdefabcdef'));
    rmSync(join(store, '.seedwrap-evicted'), { force: true });
    const r = await compile(execroot, args('other'), { ...DEBUG, ...EVICT });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(snapshot(outside)).toEqual(before);
    expect(storeLines(r.stderr)).toHaveLength(1);
    expect(storeLines(r.stderr)[0]).toMatch(/abcdefabcdef: a symlink that is not a seedwrap partition; skipped/);
  });

  it('the crate\'s own partition replaced by a symlink to another directory: the exit-101 clean-up does not delete through it', async () => {
    const { execroot, store, partition, args } = await madeStore();
    const outside = outsideTree();
    const before = snapshot(outside);
    rmSync(partition, { recursive: true });
    symlinkSync(outside, partition);
    // A "rustc" that ends with an internal compiler error once, then is the real one.
    const ice = join(execroot, 'rustc-ice-once');
    writeFileSync(ice, `#!/bin/sh\nif [ ! -e "$ICE_ONCE" ]; then : > "$ICE_ONCE"; echo "error: the compiler unexpectedly panicked (fixture)" >&2; exit 101; fi\nexec ${RUSTC} "$@"\n`);
    chmodSync(ice, 0o755);
    const r = await compile(execroot, args('app').map((a) => (a === RUSTC ? ice : a)), { ICE_ONCE: join(execroot, 'ice-done') });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(snapshot(outside)).toEqual(before);
    expect(existsSync(join(store, 'abcdefabcdef'))).toBe(false);
  });

  it('.seedwrap-evicted as a symlink to a file elsewhere: the file is not truncated', async () => {
    const { execroot, store, args } = await madeStore();
    const outside = outsideTree();
    const before = snapshot(outside);
    rmSync(join(store, '.seedwrap-evicted'), { force: true });
    symlinkSync(join(outside, 'victim'), join(store, '.seedwrap-evicted'));
    const r = await compile(execroot, args('other'), { ...DEBUG, ...EVICT });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('do not truncate\n');
    expect(snapshot(outside)).toEqual(before);
  });

  for (const which of ['.seedwrap-evicted', '.seedwrap-evict.lock']) {
    it(`a FIFO as ${which}: the compile neither hangs nor fails (the built bundle, as a real process)`, async () => {
      const { execroot, store, args } = await madeStore();
      rmSync(join(store, '.seedwrap-evicted'), { force: true });
      rmSync(join(store, which), { force: true });
      execFileSync('mkfifo', [join(store, which)]);
      utimesSync(join(store, which), hourAgo(), hourAgo());
      const r = await bundle(execroot, args('other'), { ...DEBUG, ...EVICT });
      expect(r.timedOut, 'the wrapper hung on the FIFO').toBe(false);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`${which.replace('.', '\\.')} was a FIFO; removed`));
    });
  }

  it('a symlink loop in a crate directory with RULES_RUST_PROCESS_WRAPPER_DEBUG=1: the build succeeds, one debug line', async () => {
    const { execroot, partition, args } = await madeStore();
    // For a crate with no state yet: only the loops carry its name.
    symlinkSync('other-loop', join(partition, 'other-loop'));
    symlinkSync(join(partition, 'other-cycle2'), join(partition, 'other-cycle1'));
    symlinkSync(join(partition, 'other-cycle1'), join(partition, 'other-cycle2'));
    const r = await compile(execroot, args('other'), DEBUG);
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(storeLines(r.stderr)).toHaveLength(1);
    expect(storeLines(r.stderr)[0]).toMatch(/"previous":false/);
    expect(storeLines(r.stderr)[0]).toMatch(/other-loop was a symlink; removed/);
    // And the next compile finds the state this one left.
    const next = await compile(execroot, args('other'), DEBUG);
    expect(storeLines(next.stderr)[0]).toMatch(/"previous":true/);
  });

  it('-Cincremental= naming an existing directory full of other things: nothing of it is evicted, and the debug line says why', async () => {
    const base = tempDir();
    const execroot = join(base, 'execroot', 'ws');
    writeCrate(execroot);
    const foreign = outsideTree();
    // Shaped like a store inside, too: a 12-hex directory with a crate-like one.
    mkdirSync(join(foreign, '0123456789ab', 'lib-1'), { recursive: true });
    writeFileSync(join(foreign, '0123456789ab', 'lib-1', 'x'), 'x');
    for (const p of ['0123456789ab/lib-1', '0123456789ab']) utimesSync(join(foreign, p), hourAgo(), hourAgo());
    const before = snapshot(foreign);
    const args = (crate: string) => rulesRustArgs('app/lib.rs', crate, { incremental: `-Cincremental=${foreign}` });
    for (const crate of ['one', 'two']) {
      const r = await compile(execroot, args(crate), { ...DEBUG, ...EVICT });
      expect(r.exitCode, r.stderr.toString()).toBe(0);
      expect(storeLines(r.stderr)).toHaveLength(1);
      expect(storeLines(r.stderr)[0]).toMatch(/"managed":"not made by seedwrap/);
    }
    const after = snapshot(foreign);
    for (const [k, v] of Object.entries(before)) expect(after[k], k).toBe(v);
    expect(existsSync(join(foreign, '.seedwrap-store'))).toBe(false);
  });

  it('an empty eviction lock left by a crash does not stop eviction', async () => {
    const { execroot, store, args } = await madeStore();
    const [old] = crateDirsIn(store);
    utimesSync(old!, hourAgo(), hourAgo());
    writeFileSync(join(store, '.seedwrap-evict.lock'), '');
    rmSync(join(store, '.seedwrap-evicted'), { force: true });
    const r = await compile(execroot, args('fresh'), { ...DEBUG, ...EVICT });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(existsSync(old!)).toBe(false);
  });

  it('an eviction lock held by a live process in another PID namespace is respected, and released by its death', async () => {
    const { execroot, store, args } = await madeStore();
    const [old] = crateDirsIn(store);
    utimesSync(old!, hourAgo(), hourAgo());
    const lock = join(store, '.seedwrap-evict.lock');
    writeFileSync(lock, '');
    // As a linux-sandbox action holds it: its own PID namespace (pid 1 there).
    const holder = spawn('unshare', ['--pid', '--fork', 'flock', lock, 'sleep', '120'], { stdio: 'ignore', detached: true });
    onTestFinished(() => {
      if (holder.exitCode === null && holder.signalCode === null) process.kill(-holder.pid!, 'SIGKILL');
    });
    for (let i = 0; i < 200 && spawnSync('flock', ['--nonblock', lock, 'true']).status === 0; i++) await new Promise((r) => setTimeout(r, 25));
    rmSync(join(store, '.seedwrap-evicted'), { force: true });
    const held = await compile(execroot, args('fresh'), { ...DEBUG, ...EVICT });
    expect(held.exitCode).toBe(0);
    expect(existsSync(old!)).toBe(true);
    expect(storeLines(held.stderr)[0]).toMatch(/eviction skipped: \S+ held by another process/);
    process.kill(-holder.pid!, 'SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    rmSync(join(store, '.seedwrap-evicted'), { force: true });
    const freed = await compile(execroot, args('fresh'), { ...DEBUG, ...EVICT });
    expect(freed.exitCode).toBe(0);
    expect(existsSync(old!)).toBe(false);
  });

  it('eviction never removes a crate directory whose session a running rustc holds (real concurrent compile of regex-syntax)', async () => {
    const { execroot, store, args } = await madeStore();
    const root = copyRegistryCrate('regex-syntax', execroot, 'rs');
    const big = compile(execroot, rulesRustArgs(root, 'regex_syntax', { incremental: `-Cincremental=${store}` }));
    let bigDone = false;
    void big.then(() => (bigDone = true));
    // Until rustc has made its working session (and flock-ed its lock).
    let crateDir: string | undefined;
    for (let i = 0; i < 1200 && !crateDir; i++) {
      await new Promise((r) => setTimeout(r, 25));
      crateDir = crateDirsIn(store).find((d) => d.includes('/regex_syntax-') && readdirSync(d).some((n) => n.endsWith('-working')));
    }
    expect(crateDir, 'rustc never made its working session').toBeDefined();
    // Older than any protection window: only the session lock can keep it.
    utimesSync(crateDir!, hourAgo(), hourAgo());
    rmSync(join(store, '.seedwrap-evicted'), { force: true });
    const evicting = await compile(execroot, args('small'), { ...DEBUG, ...EVICT });
    expect(evicting.exitCode).toBe(0);
    expect(bigDone, 'regex-syntax finished before the eviction ran; the test proves nothing').toBe(false);
    expect(existsSync(crateDir!)).toBe(true);
    expect(storeLines(evicting.stderr)[0]).toMatch(/regex_syntax-\w+: a rustc holds its session; kept/);
    const done = await big;
    expect(done.stderr.toString()).not.toMatch(/seedwrap:/);
    expect(done.exitCode).toBe(0);
    // Once rustc is done, the same directory is evictable: the lock, not its age or size, kept it.
    utimesSync(crateDir!, hourAgo(), hourAgo());
    rmSync(join(store, '.seedwrap-evicted'), { force: true });
    const after = await compile(execroot, args('small'), { ...DEBUG, ...EVICT });
    expect(after.exitCode).toBe(0);
    expect(existsSync(crateDir!)).toBe(false);
  });
});
