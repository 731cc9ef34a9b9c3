/**
 * Concurrency and retries (issue 15, item 6), with real rustc. Where a test
 * needs rustc to end with exit 101 at a chosen moment, a two-line sh script
 * stands in for that one invocation and then execs the real rustc: a real
 * internal compiler error cannot be timed against concurrent compiles
 * (manage.test.ts has the real one, from a damaged dep-graph.bin).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BUNDLE, NODE } from '../helpers/wrapper.ts';
import { tempDir } from '../helpers/tmp.ts';
import { appendComment, compile, copyRegistryCrate, crateDirsIn, haveRustc, RUSTC, rulesRustArgs, writeCrate } from './helpers.ts';

const DEBUG = { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' };

/** A "rustc" that runs `first` (sh) and exits 101 the first time, and is the real rustc after. */
function iceOnce(dir: string, first: string): { path: string; env: Record<string, string> } {
  const path = join(dir, 'rustc-ice-once');
  writeFileSync(path, `#!/bin/sh\nif [ ! -e "$ICE_ONCE" ]; then : > "$ICE_ONCE"; ${first}; echo "error: the compiler unexpectedly panicked (fixture)" >&2; exit 101; fi\nexec ${RUSTC} "$@"\n`);
  chmodSync(path, 0o755);
  return { path, env: { ICE_ONCE: join(dir, 'ice-done') } };
}

describe.runIf(haveRustc)('retries stay cheap and local', () => {
  it('six concurrent compiles of one crate, one ending with exit 101: the other five keep the store (none reruns cold)', async () => {
    const base = tempDir();
    const store = join(base, 'store');
    const roots = [1, 2, 3, 4, 5, 6].map((n) => {
      const execroot = join(base, `ob-${n}`, 'execroot', 'ws');
      mkdirSync(execroot, { recursive: true });
      return { execroot, root: copyRegistryCrate('regex-syntax', execroot, 'rs') };
    });
    const ice = iceOnce(base, 'sleep 3');
    const runs = roots.map(({ execroot, root }, i) => {
      const args = rulesRustArgs(root, 'regex_syntax', { incremental: `-Cincremental=${store}` });
      return compile(execroot, i === 0 ? args.map((a) => (a === RUSTC ? ice.path : a)) : args, ice.env);
    });
    const results = await Promise.all(runs);
    for (const r of results) expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(results[0]!.stderr.toString()).toMatch(/seedwrap: rustc ended with an internal compiler error \(exit 101\) using the store; dropped regex_syntax's incremental state/);
    for (const r of results.slice(1)) expect(r.stderr.toString()).not.toMatch(/seedwrap:/);
  });

  it('a retry after exit 101 writes only the successful run\'s stdout to --stdout-file', async () => {
    const base = tempDir();
    const execroot = join(base, 'execroot', 'ws');
    writeCrate(execroot);
    const ice = iceOnce(base, 'echo from-the-failed-run');
    const args = rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${join(base, 'store')}`, wrapper: ['--stdout-file', 'stdout.txt'] });
    const r = await compile(execroot, args.map((a) => (a === RUSTC ? ice.path : a)), ice.env);
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(r.stderr.toString()).toMatch(/exit 101/);
    expect(readFileSync(join(execroot, 'stdout.txt'), 'utf8')).toBe('');
  });

  it('an ordinary compile error whose diagnostic names the store path keeps the state and runs once', async () => {
    const base = tempDir();
    const execroot = join(base, 'execroot', 'ws');
    writeCrate(execroot);
    const store = join(base, 'store');
    const args = (extra: string[] = []) => rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${store}`, rustc: extra });
    const first = await compile(execroot, args(), DEBUG);
    expect(first.exitCode).toBe(0);
    const partition = JSON.parse(/seedwrap: debug: store (\{.*\})\n/.exec(first.stderr.toString())![1]!).dir as string;
    const lib = join(execroot, 'app', 'lib.rs');
    const good = readFileSync(lib, 'utf8');
    writeFileSync(lib, `${good}\ncompile_error!("no such file in ${partition} (the path is only named)");\n`);
    const failed = await compile(execroot, args());
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr.toString()).toContain(partition);
    expect(failed.stderr.toString()).not.toMatch(/seedwrap:/);
    // The error appears once: rustc ran once.
    expect(failed.stderr.toString().match(/^error: no such file in/gm)).toHaveLength(1);
    writeFileSync(lib, good);
    appendComment(lib);
    const next = await compile(execroot, args(['-Zassert-incr-state=loaded']));
    expect(next.stderr.toString()).toBe('');
    expect(next.exitCode).toBe(0);
  });

  it('SIGTERM while eviction runs: exit 143 and no --touch-file (the built bundle, as a real process)', async () => {
    const base = tempDir();
    const execroot = join(base, 'execroot', 'ws');
    writeCrate(execroot);
    const store = join(base, 'store');
    const args = rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=${store}`, wrapper: ['--touch-file', 'touched'] });
    const env = { PATH: process.env.PATH!, HOME: process.env.HOME!, RUSTC_BOOTSTRAP: '1', SEEDWRAP_STORE_MAX_MB: '0' };
    const first = await execa(NODE, ['--', BUNDLE, ...args], { cwd: execroot, env, extendEnv: false, reject: false });
    expect(first.exitCode, first.stderr).toBe(0);
    // An old crate directory big enough that removing it takes a while.
    const [made] = crateDirsIn(store);
    const big = join(made!.slice(0, made!.lastIndexOf('/')), 'big-0abc', 's-aaa-bbb-ccc');
    mkdirSync(big, { recursive: true });
    for (let i = 0; i < 60_000; i++) writeFileSync(join(big, `f${i}`), '');
    const hourAgo = Date.now() / 1000 - 3600;
    utimesSync(join(big, '..'), hourAgo, hourAgo);
    rmSync(join(store, '.seedwrap-evicted'), { force: true });
    rmSync(join(execroot, 'touched'), { force: true });
    // No SIGKILL after execa's default 5 s: removing 60,000 files can take longer on a loaded machine.
    const child = execa(NODE, ['--', BUNDLE, ...args], { cwd: execroot, env, extendEnv: false, reject: false, forceKillAfterDelay: false });
    // Eviction has begun once the old directory was renamed to trash.
    for (let i = 0; i < 4000 && !readdirSync(store).some((n) => n.startsWith('.trash-')); i++) await new Promise((r) => setTimeout(r, 5));
    expect(readdirSync(store).some((n) => n.startsWith('.trash-')), 'eviction never started').toBe(true);
    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(143);
    expect(existsSync(join(execroot, 'touched'))).toBe(false);
  });
});
