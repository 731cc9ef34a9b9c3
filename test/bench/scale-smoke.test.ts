// bench/scale's generator, small: the generated workspace builds with real
// Bazel 4.2.3 through seedwrap (rules_rust_main flavor, pipelined,
// linux-sandbox, the store's -Cincremental flag), its binaries and its test
// run, and the same tree builds as a Cargo workspace offline (real cargo).
// The full-size generator is checked for its shape only (building it takes
// minutes: that is the benchmark, bench/scale/run.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EDITS, generate, realRustc, repo } from '../../bench/scale/generate.mjs';

const WRAPPER = process.env.SEEDWRAP_E2E_WRAPPER ?? join(repo, 'dist/seedwrap.cjs');
const CARGO = existsSync(join(homedir(), '.cargo/bin/cargo')) ? join(homedir(), '.cargo/bin/cargo') : 'cargo';
const SMOKE_SOURCES = ['unicode-ident-1.0.0', 'proc-macro2-1.0.47', 'quote-1.0.21', 'itoa-1.0.1', 'memchr-2.5.0'].map((c) => `/usr/share/cargo/registry/${c}`);
const haveTools =
  spawnSync('bazel', ['--version']).status === 0 &&
  spawnSync(CARGO, ['--version']).status === 0 &&
  existsSync(WRAPPER) &&
  SMOKE_SOURCES.every((p) => existsSync(p));
const TIMEOUT = 900_000;

const scratch = mkdtempSync(join(tmpdir(), 'seedwrap-scale-smoke-'));
afterAll(() => {
  spawnSync('chmod', ['-R', 'u+w', scratch]);
  rmSync(scratch, { recursive: true, force: true });
});

describe('bench/scale generator, full size (shape only)', () => {
  it.runIf(existsSync('/usr/share/cargo/registry/syn-1.0.107'))('has >= 30 crates, >= 10 levels, proc-macros, build scripts, 2 binaries and a test', () => {
    const ws = generate(join(scratch, 'full'), { wrapper: WRAPPER, rustc: '/bin/false' });
    expect(ws.crates.length).toBeGreaterThanOrEqual(30);
    expect(ws.levels).toBeGreaterThanOrEqual(10);
    expect(ws.crates.filter((c) => c.kind === 'proc-macro').length).toBeGreaterThanOrEqual(2);
    expect(ws.crates.filter((c) => c.buildScript).length).toBeGreaterThanOrEqual(5);
    expect(ws.crates.filter((c) => c.kind === 'bin')).toHaveLength(2);
    expect(ws.crates.filter((c) => c.test)).toHaveLength(1);
    expect(ws.crates.filter((c) => c.origin === 'first-party' && c.kind === 'lib').length).toBeGreaterThanOrEqual(5);
  });
});

describe.runIf(haveTools)('bench/scale generator, smoke size', { timeout: TIMEOUT }, () => {
  const ws = join(scratch, 'smoke');
  const size = generate(ws, { smoke: true, wrapper: WRAPPER, rustc: realRustc() });
  const userRoot = join(scratch, 'bazel-root');
  const bazel = (...args: string[]) =>
    spawnSync('bazel', [`--output_user_root=${userRoot}`, '--max_idle_secs=300', ...args], { cwd: ws, encoding: 'utf8', maxBuffer: 64 << 20 });
  afterAll(() => {
    bazel('shutdown');
  });

  it('builds with Bazel through seedwrap (store flag, pipelined, linux-sandbox), then rebuilds after each edit', { timeout: TIMEOUT }, () => {
    const ob = bazel('info', 'output_base').stdout.trim();
    mkdirSync(join(ob, 'rustc-incremental'), { recursive: true });
    const flags = [
      '--//rust:flavor=rules_rust_main',
      '--spawn_strategy=linux-sandbox',
      '--//rust/settings:extra_rustc_flags=-Cincremental=${output_base}/rustc-incremental',
      `--sandbox_writable_path=${join(ob, 'rustc-incremental')}`,
      '--jobs=2',
      '--color=no',
      '--curses=no',
    ];
    const build = () => {
      const r = bazel('build', '//...', ...flags);
      expect(r.status, r.stderr.slice(-4000)).toBe(0);
      return r;
    };
    const cold = build();
    expect(cold.stderr).toMatch(/RustcMetadata|Build completed successfully/);
    const app = spawnSync(join(ws, 'bazel-bin/crates/app_cli/app_cli'), ['x'], { encoding: 'utf8' });
    expect(app.status).toBe(0);
    expect(app.stdout).toMatch(/^app_cli: scale 2 \d+/);
    const test = spawnSync(join(ws, 'bazel-bin/crates/fp_api/fp_api_test'), [], { encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toContain('1 passed');
    // The rustc state landed in the store.
    expect(spawnSync('ls', [join(ob, 'rustc-incremental')], { encoding: 'utf8' }).stdout.trim()).not.toBe('');
    for (const kind of ['bottom', 'top', 'comment', 'signature'] as const) {
      EDITS[kind].apply(ws, 1, size);
      build();
    }
  });

  // rules_rust (0.9.0 and main) runs a pipelined library's two actions with the
  // very same rustc command; rustc tracks --emit's paths for its session, so a
  // metadata action with other paths can never load the full action's session
  // and one rustc per crate can never pair them (the scale rules had that until
  // 62ed43f, and every scale figure before it measured it).
  it('runs a library\'s RustcMetadata and Rustc actions with the same rustc command (rules_rust_main flavor)', { timeout: TIMEOUT }, () => {
    const r = bazel('aquery', 'mnemonic("Rustc|RustcMetadata", //vendor/itoa:itoa)', '--//rust:flavor=rules_rust_main', '--output=jsonproto');
    expect(r.status, r.stderr.slice(-4000)).toBe(0);
    const actions: { mnemonic: string; arguments: string[] }[] = JSON.parse(r.stdout).actions;
    const byMnemonic = new Map(actions.map((a) => [a.mnemonic, a.arguments]));
    expect([...byMnemonic.keys()].sort()).toEqual(['Rustc', 'RustcMetadata']);
    const rustc = (argv: string[]) => argv.slice(argv.indexOf('--') + 1);
    const wrapper = (argv: string[]) => argv.slice(0, argv.indexOf('--'));
    expect(rustc(byMnemonic.get('RustcMetadata')!)).toEqual(rustc(byMnemonic.get('Rustc')!));
    expect(rustc(byMnemonic.get('Rustc')!)).toContain('--emit=dep-info,link,metadata');
    expect(wrapper(byMnemonic.get('RustcMetadata')!).join(' ')).toContain('--rustc-quit-on-rmeta true');
  });

  it('builds as a Cargo workspace offline, and its test passes', { timeout: TIMEOUT }, () => {
    const env = { ...process.env, CARGO_TARGET_DIR: join(scratch, 'target'), RUSTFLAGS: '--cap-lints=warn', CARGO_TERM_COLOR: 'never' };
    const r = spawnSync(CARGO, ['build', '--offline', '-j2', '--workspace', '--all-targets'], { cwd: ws, encoding: 'utf8', env, maxBuffer: 64 << 20 });
    expect(r.status, r.stderr.slice(-4000)).toBe(0);
    const app = spawnSync(join(scratch, 'target/debug/app_batch'), [], { encoding: 'utf8' });
    expect(app.stdout).toMatch(/^app_batch: scale 1 \d+/);
    const t = spawnSync(CARGO, ['test', '--offline', '-j2', '-p', 'fp_api'], { cwd: ws, encoding: 'utf8', env, maxBuffer: 64 << 20 });
    expect(t.status, t.stderr.slice(-4000)).toBe(0);
  });
});
