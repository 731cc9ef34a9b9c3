import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, TEST_BIN } from '../helpers/wrapper.ts';
import { canNamespace, crateDirsIn, haveRustc, RUSTC, writeCrate } from './helpers.ts';

/**
 * Real Bazel 4.2.3, linux-sandbox, as root: a compile carrying
 * `-Cincremental=${output_base}/rustc-incremental` (what a rules_rust user adds
 * through extra_rustc_flag) reuses its state in the next build, with
 * `--sandbox_writable_path=<output_base>/rustc-incremental`; without that flag
 * the store is read-only and the build still succeeds, from cold.
 */
const haveBazel = existsSync('/usr/bin/bazel');

function run(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bazel', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? 1, output: Buffer.concat(chunks).toString('utf8') }));
  });
}

/**
 * A scratch copy of bazel-ws/ with its own output user root: `tools` puts the
 * wrapper into the workspace (`//tools:seedwrap.cjs`). Torn down by `close`.
 */
async function scratchWorkspace(prefix: string, tools: (ws: string) => void) {
  const ws = mkdtempSync(join(tmpdir(), `${prefix}-ws-`));
  const root = mkdtempSync(join(tmpdir(), `${prefix}-root-`));
  const bazel = (...args: string[]) => run([`--output_user_root=${root}`, '--max_idle_secs=60', ...args], ws);
  cpSync(resolve(import.meta.dirname, 'bazel-ws'), ws, { recursive: true });
  mkdirSync(join(ws, 'tools'));
  tools(ws);
  writeFileSync(join(ws, 'BUILD.bazel'), `load("//:defs.bzl", "rlib")\nrlib(name = "app", src = "app/lib.rs", crate = "app", rustc = ${JSON.stringify(RUSTC)})\n`);
  writeCrate(ws);
  rmSync(join(ws, 'out'), { recursive: true, force: true });
  const info = await bazel('info', 'output_base');
  expect(info.code, info.output).toBe(0);
  const ob = info.output.trim().split('\n').at(-1)!;
  const close = async () => {
    await bazel('shutdown');
    await new Promise((done) => spawn('chmod', ['-R', 'u+w', root]).on('close', done));
    rmSync(root, { recursive: true, force: true });
    rmSync(ws, { recursive: true, force: true });
  };
  return { ws, ob, bazel, close };
}

function executableCopy(dest: string): void {
  // SEEDWRAP_TEST_BIN: the single executable, whose store chunk is a SEA asset.
  cpSync(TEST_BIN ?? BUNDLE, dest);
  chmodSync(dest, 0o755);
}

describe.runIf(haveBazel && haveRustc && canNamespace)('the store under real Bazel 4.2.3 linux-sandbox', () => {
  let scratch: Awaited<ReturnType<typeof scratchWorkspace>> | undefined;
  let ws: string;
  let ob: string;
  const build = (...flags: string[]) => scratch!.bazel('build', '//:app', '--color=no', '--curses=no', ...(flags.some((f) => f.startsWith('--spawn_strategy=')) ? [] : ['--spawn_strategy=linux-sandbox']), ...flags);
  const INCREMENTAL = '-Cincremental=${output_base}/rustc-incremental';

  beforeAll(async () => {
    scratch = await scratchWorkspace('seedwrap-store', (dir) => {
      executableCopy(join(dir, 'tools', 'seedwrap.cjs'));
      writeFileSync(join(dir, 'tools', 'BUILD.bazel'), 'exports_files(["seedwrap.cjs"])\n');
    });
    ({ ws, ob } = scratch);
    mkdirSync(join(ob, 'rustc-incremental'), { recursive: true });
  }, 120_000);

  afterAll(() => scratch?.close(), 120_000);

  it('reuses the previous build\'s session after a comment edit; without the writable path it compiles from cold and succeeds; processwrapper-sandbox shares linux-sandbox\'s state; local reuses its own', async () => {
    const writable = `--sandbox_writable_path=${ob}/rustc-incremental`;
    const cold = await build(writable, `--define=rustc_flags=${INCREMENTAL}`);
    expect(cold.code, cold.output).toBe(0);
    expect(cold.output).toMatch(/seedwrap: debug: store \{[^\n]*"mode":"store"[^\n]*"previous":false/);
    expect(crateDirsIn(join(ob, 'rustc-incremental')).map((d) => d.split('/').at(-1))).toEqual([expect.stringMatching(/^app-/)]);
    // The command line rustc saw is the same in every build: the stable base.
    expect(cold.output).toContain(`-Cincremental=${ob}/sandbox/stable/rustc-incremental/`);

    appendFileSync(join(ws, 'app', 'lib.rs'), '// a comment edit\n');
    const warm = await build(writable, `--define=rustc_flags=${INCREMENTAL},-Zassert-incr-state=loaded`);
    expect(warm.code, warm.output).toBe(0);
    expect(warm.output).toMatch(/"mode":"store"[^\n]*"previous":true/);

    appendFileSync(join(ws, 'app', 'lib.rs'), '// another edit\n');
    const readOnly = await build(`--define=rustc_flags=${INCREMENTAL}`);
    expect(readOnly.code, readOnly.output).toBe(0);
    expect(readOnly.output).toMatch(new RegExp(`seedwrap: store ${ob}/rustc-incremental: cannot be written \\(EROFS[^\\n]*; compiling from cold in a fresh incremental directory`));

    // processwrapper-sandbox gets the same stable cwd, so the same command line: it loads linux-sandbox's state.
    appendFileSync(join(ws, 'app', 'lib.rs'), '// edit 3\n');
    const pw = await build('--spawn_strategy=processwrapper-sandbox', `--define=rustc_flags=${INCREMENTAL},-Zassert-incr-state=loaded`);
    expect(pw.code, pw.output).toBe(0);
    expect(pw.output).toMatch(/"mode":"store"[^\n]*"previous":true/);

    // local: ${output_base} is the real one (another command line than the sandboxes'), reused from build to build.
    appendFileSync(join(ws, 'app', 'lib.rs'), '// edit 4\n');
    expect((await build('--spawn_strategy=local', `--define=rustc_flags=${INCREMENTAL}`)).code).toBe(0);
    appendFileSync(join(ws, 'app', 'lib.rs'), '// edit 5\n');
    const local = await build('--spawn_strategy=local', `--define=rustc_flags=${INCREMENTAL},-Zassert-incr-state=loaded`);
    expect(local.code, local.output).toBe(0);
    expect(local.output).toContain(`-Cincremental=${ob}/rustc-incremental/`);
  }, 400_000);
});

/**
 * Local and the non-sandboxed worker run in the real execroot, whose `external/`
 * is a real directory as soon as the build uses an external repository (every
 * rules_rust workspace does). Upstream's `${output_base}` then names the execroot
 * itself; the store must still be `<output_base>/rustc-incremental`, not a
 * directory inside the execroot. Here the wrapper itself comes from `@ext`.
 */
describe.runIf(haveBazel && haveRustc)('the store under real Bazel 4.2.3 local, with an external repository', () => {
  let scratch: Awaited<ReturnType<typeof scratchWorkspace>> | undefined;
  let ws: string;
  let ob: string;
  const build = (...flags: string[]) => scratch!.bazel('build', '//:app', '--color=no', '--curses=no', '--spawn_strategy=local', ...flags);
  const INCREMENTAL = '-Cincremental=${output_base}/rustc-incremental';

  beforeAll(async () => {
    scratch = await scratchWorkspace('seedwrap-store-local', (dir) => {
      const ext = join(dir, 'ext');
      mkdirSync(ext);
      writeFileSync(join(ext, 'WORKSPACE'), 'workspace(name = "ext")\n');
      writeFileSync(join(ext, 'BUILD.bazel'), 'exports_files(["seedwrap.cjs"])\n');
      executableCopy(join(ext, 'seedwrap.cjs'));
      appendFileSync(join(dir, 'WORKSPACE'), `local_repository(name = "ext", path = ${JSON.stringify(ext)})\n`);
      writeFileSync(join(dir, 'tools', 'BUILD.bazel'), 'alias(name = "seedwrap.cjs", actual = "@ext//:seedwrap.cjs", visibility = ["//visibility:public"])\n');
    });
    ({ ws, ob } = scratch);
  }, 120_000);

  afterAll(() => scratch?.close(), 120_000);

  it('keeps the state in <output_base>/rustc-incremental and reuses it after an edit', async () => {
    const cold = await build(`--define=rustc_flags=${INCREMENTAL}`);
    expect(cold.code, cold.output).toBe(0);
    // The precondition this case is about: external/ is a real directory in the execroot.
    expect(lstatSync(join(ob, 'execroot', 'ws', 'external')).isDirectory()).toBe(true);
    expect(crateDirsIn(join(ob, 'rustc-incremental')).map((d) => d.split('/').at(-1))).toEqual([expect.stringMatching(/^app-/)]);
    appendFileSync(join(ws, 'app', 'lib.rs'), '// a comment edit\n');
    const warm = await build(`--define=rustc_flags=${INCREMENTAL},-Zassert-incr-state=loaded`);
    expect(warm.code, warm.output).toBe(0);
    expect(warm.output).toMatch(/"mode":"store"[^\n]*"previous":true/);
  }, 400_000);

  // Issue 15, item 4: under linux-sandbox the wrapper from @ext is an input, so
  // the sandbox has a real external/ directory, as every real rules_rust
  // sandbox does (local_config_cc). Both spellings are the store there.
  it.runIf(canNamespace)('linux-sandbox with a real external/ in the sandbox: ${pwd}/../../rustc-incremental (rules_rust 0.9) and ${output_base}/rustc-incremental are the store, reused after an edit', async () => {
    mkdirSync(join(ob, 'rustc-incremental'), { recursive: true });
    const writable = `--sandbox_writable_path=${ob}/rustc-incremental`;
    for (const [i, flag] of ['-Cincremental=${pwd}/../../rustc-incremental', '-Cincremental=${output_base}/rustc-incremental'].entries()) {
      appendFileSync(join(ws, 'app', 'lib.rs'), `// spelling ${i}, cold\n`);
      const cold = await build('--spawn_strategy=linux-sandbox', writable, `--define=rustc_flags=${flag}`);
      expect(cold.code, cold.output).toBe(0);
      expect(cold.output).toMatch(new RegExp(`seedwrap: debug: store \\{"store":"${ob}/rustc-incremental","crate":"app","mode":"store"`));
      expect(cold.output).not.toMatch(/seedwrap: (?!debug)/);
      // ${output_base} names the sandbox's execroot itself: proof that external/ is a real directory there.
      if (i === 1) expect(cold.output).toContain(`-Cincremental=${ob}/sandbox/stable/execroot/ws/rustc-incremental/`);
      appendFileSync(join(ws, 'app', 'lib.rs'), `// spelling ${i}, edit\n`);
      const warm = await build('--spawn_strategy=linux-sandbox', writable, `--define=rustc_flags=${flag},-Zassert-incr-state=loaded`);
      expect(warm.code, warm.output).toBe(0);
      expect(warm.output).toMatch(/"mode":"store"[^\n]*"previous":true/);
    }
  }, 400_000);
});
