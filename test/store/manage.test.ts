import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, symlinkSync, mkdirSync, mkdtempSync, rmdirSync, writeFileSync, openSync, readdirSync, rmSync, utimesSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { appendComment, compile, copyRegistryCrate, crateDirsIn, haveRustc, rulesRustArgs, sandboxDir, writeCrate } from './helpers.ts';

const isRoot = process.getuid?.() === 0;
const DEBUG = { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' };

/** `<output_base>/execroot/ws`: Bazel's local strategy (no sandbox, no namespace needed). */
function localExecroot(): { ob: string; execroot: string; store: string } {
  const ob = tempDir();
  const execroot = join(ob, 'execroot', 'ws');
  mkdirSync(join(execroot, 'out'), { recursive: true });
  // As Bazel makes it: the execroot's external/ is a symlink to <output_base>/external.
  mkdirSync(join(ob, 'external'));
  symlinkSync(join(ob, 'external'), join(execroot, 'external'));
  return { ob, execroot, store: join(ob, 'rustc-incremental') };
}

/** A small tmpfs of the test's own (unmounted, then removed, when the test ends). */
function tmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'seedwrap-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'seedwrap-test', dir]);
  onTestFinished(() => {
    spawnSync('umount', [dir]);
    rmdirSync(dir);
  });
  return dir;
}

describe.runIf(haveRustc)('the managed store, real rustc', () => {
  it('an external crate (root under external/) is compiled without -C incremental; SEEDWRAP_STORE_EXTERNAL=1 keeps its state', async () => {
    const { execroot, store } = localExecroot();
    const root = copyRegistryCrate('itoa', execroot, 'external/crate_index__itoa');
    const off = await compile(execroot, rulesRustArgs(root, 'itoa'), DEBUG);
    expect(off.exitCode, off.stderr.toString()).toBe(0);
    expect(off.stderr.toString()).toMatch(/seedwrap: debug: store \{[^\n]*"crate":"itoa","mode":"external"/);
    expect(off.stderr.toString()).not.toMatch(/-Cincremental/);
    expect(crateDirsIn(store)).toEqual([]);
    const on = await compile(execroot, rulesRustArgs(root, 'itoa'), { ...DEBUG, SEEDWRAP_STORE_EXTERNAL: '1' });
    expect(on.exitCode, on.stderr.toString()).toBe(0);
    expect(crateDirsIn(store)).toHaveLength(1);
  });

  it('rustc ending with an internal compiler error (exit 101) on damaged state: the crate state is dropped and the compile runs once more, successfully', async () => {
    const { execroot, store } = localExecroot();
    const root = copyRegistryCrate('itoa', execroot, 'itoa');
    const first = await compile(execroot, rulesRustArgs(root, 'itoa'), DEBUG);
    expect(first.exitCode).toBe(0);
    const argv = JSON.parse(/seedwrap: debug: child argv: (.*)\n/.exec(first.stderr.toString())![1]!) as string[];
    const [crateDir] = crateDirsIn(store);
    const session = readdirSync(crateDir!).find((n) => n.startsWith('s-') && !n.endsWith('.lock'))!;
    // Bytes overwritten inside dep-graph.bin: rustc 1.95 panics decoding it (measured: exit 101).
    const fd = openSync(join(crateDir!, session, 'dep-graph.bin'), 'r+');
    writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, 2000);
    closeSync(fd);
    // The precondition, on a copy: rustc itself ends with 101 on this state.
    const copy = join(execroot, 'copy');
    cpSync(join(store), copy, { recursive: true });
    const part = readdirSync(copy).find((n) => !n.startsWith('.'))!;
    // The same command line as seedwrap's child, on the copy (the directory's path is not tracked).
    const direct = spawnSync(argv[0]!, argv.slice(1).map((a) => (a.startsWith('-Cincremental=') ? `-Cincremental=${join(copy, part)}` : a)), { cwd: execroot, encoding: 'utf8', env: { ...process.env, RUSTC_BOOTSTRAP: '1' } });
    expect(direct.status, direct.stderr).toBe(101);
    rmSync(copy, { recursive: true });

    const r = await compile(execroot, rulesRustArgs(root, 'itoa'));
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toMatch(/panicked|internal compiler error/);
    expect(r.stderr.toString()).toMatch(/seedwrap: rustc ended with an internal compiler error \(exit 101\) using the store; dropped itoa's incremental state in \S+ and compiling once more from cold\n/);
    // The second run made fresh state, which the next compile reuses.
    appendComment(join(execroot, root));
    const next = await compile(execroot, rulesRustArgs(root, 'itoa', { rustc: ['-Zassert-incr-state=loaded'] }));
    expect(next.stderr.toString()).toBe('');
    expect(next.exitCode).toBe(0);
  });

  it.runIf(isRoot)('a store with too little free space: one warning, a cold compile in a fresh directory, nothing left behind', async () => {
    const { execroot } = localExecroot();
    writeCrate(execroot);
    const store = tmpfs('1m');
    const r = await compile(execroot, rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${store}` }));
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toMatch(new RegExp(`^seedwrap: store ${store}: only 1\\.0 MiB free \\(SEEDWRAP_STORE_MIN_FREE_MB=256\\); compiling from cold in a fresh incremental directory\\n$`));
    expect(readdirSync(join(execroot, 'out'))).toContain('libapp.rlib');
    expect(crateDirsIn(store)).toEqual([]);
  });

  it.runIf(isRoot)('a store that fills up during the compile (rustc fails writing it): compiled once more from cold, the build succeeds', async () => {
    const { execroot } = localExecroot();
    writeCrate(execroot);
    const store = tmpfs('64k');
    const r = await compile(execroot, rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${store}` }), { SEEDWRAP_STORE_MIN_FREE_MB: '0' });
    expect(r.stderr.toString()).toMatch(/No space left on device/);
    expect(r.stderr.toString()).toMatch(/seedwrap: rustc could not use the store \S+ \(see above\); compiling once more from cold in a fresh incremental directory\n/);
    expect(r.exitCode).toBe(0);
    expect(readdirSync(join(execroot, 'out'))).toContain('libapp.rlib');
  });

  it('a store that cannot be created (its parent is a file): one warning, the build succeeds', async () => {
    const { ob, execroot } = localExecroot();
    writeCrate(execroot);
    writeFileSync(join(ob, 'file'), '');
    const store = join(ob, 'file', 'store');
    const r = await compile(execroot, rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${store}` }));
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toMatch(new RegExp(`^seedwrap: store ${store}: cannot be written \\(ENOTDIR \\(${store}\\)\\); compiling from cold in a fresh incremental directory\n$`));
  });

  it('least recently used crate directories beyond SEEDWRAP_STORE_MAX_MB are evicted after a compile; recently used ones are kept', async () => {
    const { execroot, store } = localExecroot();
    writeCrate(execroot);
    for (const crate of ['old_a', 'old_b']) expect((await compile(execroot, rulesRustArgs('app/lib.rs', crate))).exitCode).toBe(0);
    const [a, b] = ['old_a', 'old_b'].map((c) => crateDirsIn(store).find((d) => d.includes(`/${c}-`))!);
    const hourAgo = Date.now() / 1000 - 3600;
    utimesSync(a!, hourAgo - 60, hourAgo - 60);
    utimesSync(b!, hourAgo, hourAgo);
    // Eviction walks the store at most once a minute; the earlier compiles just did.
    rmSync(join(store, '.seedwrap-evicted'));
    const r = await compile(execroot, rulesRustArgs('app/lib.rs', 'fresh'), { ...DEBUG, SEEDWRAP_STORE_MAX_MB: '0' });
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toMatch(/seedwrap: debug: store \{[^\n]*"evicted":\[/);
    // Both old ones exceed a cap of 0 and go; the one just used is protected.
    expect(existsSync(a!)).toBe(false);
    expect(existsSync(b!)).toBe(false);
    expect(crateDirsIn(store).map((d) => d.split('/').at(-1))).toEqual([expect.stringMatching(/^fresh-/)]);
  });

  it('concurrent compiles of one crate into one store (four sandboxes at once) all succeed, and the state stays usable', async () => {
    const ob = tempDir();
    const dirs = [1, 2, 3, 4].map((n) => sandboxDir(ob, n));
    for (const d of dirs) writeCrate(d);
    const results = await Promise.all(dirs.map((d) => compile(d, rulesRustArgs('app/lib.rs', 'app'))));
    for (const r of results) {
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
    }
    const next = sandboxDir(ob, 5);
    writeCrate(next, '// edit\n');
    const warm = await compile(next, rulesRustArgs('app/lib.rs', 'app', { rustc: ['-Zassert-incr-state=loaded'] }));
    expect(warm.stderr.toString()).toBe('');
    expect(warm.exitCode).toBe(0);
  });
});
