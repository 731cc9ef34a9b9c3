import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, ensureBundle, repo } from './spawn.ts';

/**
 * Real Bazel (4.2.3 at /usr/bin/bazel) running seedwrap as a persistent
 * worker: fixtures/worker/bazel has six actions that run `/bin/sh` through
 * seedwrap with startup flags and an @flagfile, each writing the pid of its
 * parent (the worker) and its cwd via --stdout-file.
 */
const BAZEL = '/usr/bin/bazel';
const have = existsSync(BAZEL);
const root = realpathSync(mkdtempSync(join(tmpdir(), 'seedwrap-bazel-worker-')));
const ws = join(root, 'ws');
const userRoot = join(root, 'user-root');

function tryBazel(...args: string[]): { status: number | null; stderr: string } {
  return spawnSync(BAZEL, [`--output_user_root=${userRoot}`, '--max_idle_secs=60', ...args], { cwd: ws, encoding: 'utf8', timeout: 240_000 });
}

function bazel(...args: string[]): string {
  const r = tryBazel(...args);
  if (r.status !== 0) throw new Error(`bazel ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stderr;
}

function outputBase(): string {
  return execFileSync(BAZEL, [`--output_user_root=${userRoot}`, 'info', 'output_base'], { cwd: ws, encoding: 'utf8' }).trim();
}

function outputs(): Array<{ name: string; ppid: string; cwd: string }> {
  const bin = join(ws, 'bazel-bin');
  return readdirSync(bin)
    .filter((f) => /^e\d\.txt$/.test(f))
    .map((f) => {
      const m = /^(\S+) ppid=(\d+) cwd=(\S+)\n$/.exec(readFileSync(join(bin, f), 'utf8'));
      if (!m) throw new Error(`unexpected ${f}: ${readFileSync(join(bin, f), 'utf8')}`);
      return { name: m[1]!, ppid: m[2]!, cwd: m[3]! };
    });
}

function workerLogs(): string {
  const dir = join(outputBase(), 'bazel-workers');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => `== ${f}\n${readFileSync(join(dir, f), 'utf8')}`)
    .join('\n');
}

beforeAll(() => {
  if (!have) return;
  ensureBundle();
  cpSync(join(repo, 'fixtures', 'worker', 'bazel'), ws, { recursive: true });
  copyFileSync(bundle, join(ws, 'tools', 'seedwrap.cjs'));
});

afterAll(() => {
  if (have && existsSync(ws)) spawnSync(BAZEL, [`--output_user_root=${userRoot}`, 'shutdown'], { cwd: ws, timeout: 60_000 });
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!have)('Bazel 4.2.3 with seedwrap as a persistent worker', { timeout: 240_000 }, () => {
  const common = ['--strategy=SeedwrapEcho=worker', '//:all'];

  it('proto, singleplex: one worker process runs every action in the stable execroot', () => {
    const log = bazel('build', '--worker_max_instances=1', ...common);
    expect(log).toMatch(/6 worker/);
    const outs = outputs();
    expect(outs).toHaveLength(6);
    expect(new Set(outs.map((o) => o.ppid)).size).toBe(1);
    for (const o of outs) expect(o.cwd).toMatch(/\/execroot\/seedwrap_worker_fixture$/);
    expect(workerLogs()).toMatch(/request 0 \(proto\) start/);
  });

  it('JSON, multiplexed: concurrent requests in one process', () => {
    bazel('clean');
    const log = bazel('build', '--experimental_worker_allow_json_protocol', '--define=protocol=json', '--define=multiplex=1', '--jobs=6', '--local_cpu_resources=6', ...common);
    expect(log).toMatch(/6 worker/);
    expect(new Set(outputs().map((o) => o.ppid)).size).toBe(1);
    const logs = workerLogs();
    expect(logs).toMatch(/request [1-9]\d* \(json\) start/);
    // Multiplexed: a second request started before the first one finished.
    const mux = logs.slice(logs.indexOf('== multiplex-worker'));
    const firstExit = mux.search(/request \d+ exit/);
    expect(mux.slice(0, firstExit).match(/\(json\) start/g)?.length ?? 0).toBeGreaterThan(1);
  });

  it('proto, --worker_sandboxing: each worker runs in its own sandbox directory', () => {
    bazel('clean');
    const log = bazel('build', '--worker_sandboxing', '--worker_max_instances=2', ...common);
    expect(log).toMatch(/6 worker/);
    for (const o of outputs()) expect(o.cwd).toMatch(/\/bazel-workers\/worker-\d+-SeedwrapEcho\/seedwrap_worker_fixture$/);
  });

  it('proto, --worker_sandboxing with --stable-cwd: every worker runs its children at <output_base>/bazel-workers/stable/execroot/<ws>', () => {
    bazel('clean');
    const log = bazel('build', '--worker_sandboxing', '--worker_max_instances=2', '--define=stable_cwd=1', '--jobs=2', ...common);
    expect(log).toMatch(/6 worker/);
    const outs = outputs();
    expect(outs).toHaveLength(6);
    const stable = join(outputBase(), 'bazel-workers', 'stable', 'execroot', 'seedwrap_worker_fixture');
    for (const o of outs) expect(o.cwd).toBe(stable);
    expect(workerLogs()).not.toMatch(/--stable-cwd:/); // no "cannot" warning
  });

  const rustup = join(homedir(), '.cargo', 'bin', 'rustc');
  it.skipIf(!existsSync(rustup))('rustc through the worker reuses its incremental session across builds and a server restart', () => {
    const rustc = join(execFileSync(rustup, ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), 'bin', 'rustc');
    const build = (assertLoaded: boolean) =>
      tryBazel('build', `--define=rustc=${rustc}`, ...(assertLoaded ? ['--define=assert_loaded=1'] : []), '--strategy=SeedwrapRustc=worker', '//rs:demo');
    const edit = (n: number) => appendFileSync(join(ws, 'rs', 'lib.rs'), `pub fn added${n}() -> u8 { ${n} }\n`);

    expect(build(false).status).toBe(0); // cold: fills <output_base>/seedwrap-incremental
    const cache = join(outputBase(), 'seedwrap-incremental');
    expect(readdirSync(cache).filter((n) => !n.startsWith('.'))).toHaveLength(1); // one store partition (src/store/crateDir.ts)

    edit(1);
    const warm = build(true); // -Zassert-incr-state=loaded fails the action unless rustc reused the session
    expect(warm.status, warm.stderr).toBe(0);

    bazel('shutdown'); // a new server and a new worker process
    edit(2);
    const restarted = build(true);
    expect(restarted.status, restarted.stderr).toBe(0);

    // The control: without the cache directory the same assertion fails.
    rmSync(cache, { recursive: true, force: true });
    edit(3);
    const cold = build(true);
    expect(cold.status).not.toBe(0);
    expect(cold.stderr).toMatch(/incremental cache directory should be successfully loaded/);
  });
});
