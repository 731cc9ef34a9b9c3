import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/wrapper/main.ts';
import { runWorker } from '../../src/worker/index.ts';
import { wantsStore } from '../../src/store/wantsStore.ts';
import { outputBaseOf } from '../../src/worker/flags.ts';
import { WorkerClient } from '../worker/client.ts';
import { crateDirsIn } from './helpers.ts';

const rustup = join(homedir(), '.cargo', 'bin', 'rustc');
const haveRustc = existsSync(rustup);
/** The toolchain's own rustc, not the rustup proxy (which costs a few ms per call). */
const rustc = haveRustc ? join(execFileSync(rustup, ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), 'bin', 'rustc') : '';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'seedwrap-incr-')));
const ws = join(root, 'execroot', 'ws');
const cache = join(root, 'cache');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function startWorker(extra: string[] = [], extraEnv: Record<string, string> = {}) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let log = '';
  stderr.on('data', (c: Buffer) => { log += c.toString(); });
  const env = { ...process.env, RUSTC_BOOTSTRAP: '1', ...extraEnv };
  const exit = runWorker(['--worker-incremental-dir', cache, ...extra], { stdin, stdout, stderr, cwd: ws, env }, main);
  return { client: new WorkerClient(stdin, stdout, 'proto'), exit, log: () => log };
}

function compile(crate: string, emit: string, extra: string[] = []): string[] {
  return ['--', rustc, '--crate-name', crate, '--crate-type', 'rlib', '--edition', '2021', `--emit=${emit}`, '--out-dir', `out/${crate}`, `src/${crate}.rs`, ...extra];
}

/** `<partition>/<crate>-<id>` directories of the worker's store. */
const slots = () => crateDirsIn(cache).map((d) => d.slice(cache.length + 1));

beforeAll(() => {
  mkdirSync(join(ws, 'src'), { recursive: true });
  for (const crate of ['demo', 'other']) mkdirSync(join(ws, 'out', crate), { recursive: true });
  const fns = Array.from({ length: 60 }, (_, i) => `pub fn f${i}(x: u64) -> u64 { x.wrapping_mul(${i + 3}).rotate_left(${i % 13}) }`).join('\n');
  writeFileSync(join(ws, 'src', 'demo.rs'), `${fns}\n`);
  writeFileSync(join(ws, 'src', 'other.rs'), 'pub fn g() -> u32 { 7 }\n');
});

describe.skipIf(!haveRustc)('the worker\'s store (--worker-incremental-dir) with real rustc', () => {
  it('reuses the session after an edit, across a worker restart, and keeps metadata-only apart', async () => {
    let w = startWorker();
    // The control: with nothing cached yet, the assertion fails the compile.
    const control = await w.client.request({ requestId: 99, arguments: compile('demo', 'dep-info,link', ['-Zassert-incr-state=loaded']) });
    expect(control.exitCode).not.toBe(0);
    expect(control.output).toMatch(/incremental cache directory should be successfully loaded/);
    const first = await w.client.request({ requestId: 1, arguments: compile('demo', 'dep-info,link') });
    expect(first.output).toBe('');
    expect(first.exitCode).toBe(0);
    expect(slots()).toHaveLength(1);

    appendFileSync(join(ws, 'src', 'demo.rs'), 'pub fn added() -> u8 { 1 }\n');
    // -Zassert-incr-state=loaded fails the compile unless rustc loaded the previous session.
    const second = await w.client.request({ requestId: 2, arguments: compile('demo', 'dep-info,link', ['-Zassert-incr-state=loaded']) });
    expect(second.output).toBe('');
    expect(second.exitCode).toBe(0);

    // Metadata-only (another --emit) gets a partition of its own: a first metadata compile has nothing to load.
    const meta = await w.client.request({ requestId: 3, arguments: compile('demo', 'dep-info,metadata', ['-Zassert-incr-state=not-loaded']) });
    expect(meta.exitCode, meta.output).toBe(0);
    expect(slots()).toHaveLength(2);
    w.client.end();
    expect(await w.exit).toBe(0);

    // A new worker process (same cwd, same cache root) still finds the session.
    appendFileSync(join(ws, 'src', 'demo.rs'), '// another edit\npub fn added2() -> u8 { 2 }\n');
    w = startWorker();
    const third = await w.client.request({ requestId: 4, arguments: compile('demo', 'dep-info,link', ['-Zassert-incr-state=loaded']) });
    expect(third.exitCode, third.output).toBe(0);
    w.client.end();
    expect(await w.exit).toBe(0);
  });

  it('runs two concurrent compiles of one crate in one crate directory (rustc\'s session locks keep them apart)', async () => {
    const w = startWorker(['--rustc-quit-on-rmeta', 'false']);
    const before = new Set(slots());
    const a = w.client.request({ requestId: 10, arguments: compile('other', 'link') });
    const b = w.client.request({ requestId: 11, arguments: compile('other', 'link') });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.exitCode, ra.output).toBe(0);
    expect(rb.exitCode, rb.output).toBe(0);
    expect(slots().filter((s) => !before.has(s))).toHaveLength(1);
    appendFileSync(join(ws, 'src', 'other.rs'), '// edit\n');
    const c = await w.client.request({ requestId: 12, arguments: compile('other', 'link', ['-Zassert-incr-state=loaded']) });
    expect(c.exitCode, c.output).toBe(0);
    w.client.end();
    expect(await w.exit).toBe(0);
  });

  it('leaves a request with its own -Cincremental alone', async () => {
    const w = startWorker();
    const before = slots().length;
    const own = join(root, 'own-incr');
    const res = await w.client.request({ requestId: 20, arguments: compile('other', 'link', [`-Cincremental=${own}`]) });
    expect(res.exitCode, res.output).toBe(0);
    expect(existsSync(own)).toBe(true);
    expect(slots().length).toBe(before);
    w.client.end();
    await w.exit;
  });
});

describe('requests, eviction and locks', () => {
  it('the store applies to rustc compiles that name their crate and have no -C incremental of their own', () => {
    const base = ['--', '/x/rustc', '--crate-name', 'c', '--crate-type=rlib', '--emit=link,dep-info', '--out-dir', 'o', 'lib.rs'];
    expect(wantsStore(base, '/')).toBe(true);
    expect(wantsStore(['--rustc-quit-on-rmeta', 'true', ...base, '-Copt-level=1'], '/')).toBe(true);
    expect(wantsStore([...base, '-C', 'incremental=/i'], '/')).toBe(false);
    expect(wantsStore([...base, '--codegen=incremental=/i'], '/')).toBe(false);
    expect(wantsStore(['--', '/bin/true', '--crate-name', 'c'], '/')).toBe(false);
    expect(wantsStore(['--', 'rustc', 'lib.rs'], '/')).toBe(false);
    expect(wantsStore(['/x/rustc', '--crate-name', 'c'], '/')).toBe(false);
  });

  it('reads rustc arguments from a param file', () => {
    const dir = mkdtempSync(join(root, 'params-'));
    writeFileSync(join(dir, 'r.params'), '--crate-name\nfrom_params\n--emit=metadata\n');
    writeFileSync(join(dir, 'own.params'), '--crate-name\nc\n-Cincremental=/own\n');
    expect(wantsStore(['--', 'rustc', '@r.params'], dir)).toBe(true);
    expect(wantsStore(['--', 'rustc', '@own.params'], dir)).toBe(false);
    expect(wantsStore(['--', 'rustc', '@missing.params'], dir)).toBe(false);
  });

  it.skipIf(!haveRustc)('--worker-incremental-max-mb reaches the store\'s eviction', async () => {
    let w = startWorker();
    const res = await w.client.request({ requestId: 30, arguments: compile('other', 'link') });
    expect(res.exitCode, res.output).toBe(0);
    w.client.end();
    await w.exit;
    const [dir] = slots().filter((s) => s.includes('/other-'));
    const hourAgo = Date.now() / 1000 - 3600;
    utimesSync(join(cache, dir!), hourAgo, hourAgo);
    rmSync(join(cache, '.seedwrap-evicted'), { force: true });
    w = startWorker(['--worker-incremental-max-mb', '0']);
    const next = await w.client.request({ requestId: 31, arguments: compile('demo', 'dep-info,link') });
    expect(next.exitCode, next.output).toBe(0);
    w.client.end();
    await w.exit;
    expect(existsSync(join(cache, dir!))).toBe(false);
  });

  it.skipIf(!haveRustc)('--worker-incremental-max-mb wins over an inherited SEEDWRAP_STORE_MAX_MB', async () => {
    let w = startWorker();
    const res = await w.client.request({ requestId: 40, arguments: compile('other', 'link') });
    expect(res.exitCode, res.output).toBe(0);
    w.client.end();
    await w.exit;
    const [dir] = slots().filter((s) => s.includes('/other-'));
    const hourAgo = Date.now() / 1000 - 3600;
    utimesSync(join(cache, dir!), hourAgo, hourAgo);
    rmSync(join(cache, '.seedwrap-evicted'), { force: true });
    // The environment allows 100 GiB; the worker's own flag says 0.
    w = startWorker(['--worker-incremental-max-mb', '0'], { SEEDWRAP_STORE_MAX_MB: '102400' });
    const next = await w.client.request({ requestId: 41, arguments: compile('demo', 'dep-info,link') });
    expect(next.exitCode, next.output).toBe(0);
    w.client.end();
    await w.exit;
    expect(existsSync(join(cache, dir!))).toBe(false);
  });

  it('finds the output base from a worker cwd, on real directories only', () => {
    const ob = realpathSync(mkdtempSync(join(root, 'ob-')));
    mkdirSync(join(ob, 'execroot', 'ws'), { recursive: true });
    mkdirSync(join(ob, 'bazel-workers', 'worker-3-Rustc', 'ws'), { recursive: true });
    expect(outputBaseOf(join(ob, 'execroot', 'ws'))).toBe(ob);
    expect(outputBaseOf(join(ob, 'bazel-workers', 'worker-3-Rustc', 'ws'))).toBe(ob);
    // The shape alone is not a worker directory (bazelLayout.ts): one clear line.
    expect(() => outputBaseOf(join(ob, 'elsewhere', 'execroot', 'ws'))).toThrow(/--worker-incremental-dir auto: .* is not a Bazel execroot/);
  });
});

describe('one-shot fallback of a worker-style action', () => {
  it('drops worker-only flags and inlines the flagfile', async () => {
    const { oneShotArgv } = await import('../../src/worker/flags.ts');
    const dir = mkdtempSync(join(root, 'oneshot-'));
    writeFileSync(join(dir, 'a.params'), '--subst\npwd=${pwd}\r\n--\nrustc\n@rustc.params\n');
    const read = (p: string) => readFileSync(p, 'utf8');
    expect(oneShotArgv(['--worker-incremental-dir', 'auto', '--subst', 'x=y', '@a.params'], dir, read)).toEqual([
      '--subst', 'x=y', '--subst', 'pwd=${pwd}', '--', 'rustc', '@rustc.params',
    ]);
    expect(oneShotArgv(['--', 'prog', '@kept', '--worker-incremental-dir'], dir, read)).toEqual(['--', 'prog', '@kept', '--worker-incremental-dir']);
    expect(oneShotArgv(['@@literal'], dir, read)).toEqual(['@literal']);
  });
});
