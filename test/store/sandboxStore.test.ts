import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { appendComment, canNamespace, compile, copyRegistryCrate, crateDirsIn, haveRustc, RUSTC, rulesRustArgs, sandboxDir, writeCrate } from './helpers.ts';

const LOADED = ['-Zassert-incr-state=loaded'];

describe.runIf(haveRustc && canNamespace)('the store under sandbox-shaped working directories, real rustc', () => {
  it('-Cincremental=${output_base}/rustc-incremental in sandbox 7 is reused from sandbox 8: <output_base>/rustc-incremental, stable cwd on by itself', async () => {
    const ob = tempDir();
    const first = sandboxDir(ob, 7);
    writeCrate(first);
    const cold = await compile(first, rulesRustArgs('app/lib.rs', 'app'));
    expect(cold.stderr.toString()).toBe('');
    expect(cold.exitCode).toBe(0);
    // The state is in the real output base, not in the (deleted) sandbox.
    const store = join(ob, 'rustc-incremental');
    expect(crateDirsIn(store).map((d) => d.split('/').at(-1))).toEqual([expect.stringMatching(/^app-\w+$/)]);
    expect(existsSync(join(ob, 'sandbox', 'linux-sandbox', '7', 'rustc-incremental'))).toBe(false);
    expect(existsSync(join(ob, 'sandbox', 'stable'))).toBe(false);

    const second = sandboxDir(ob, 8);
    writeCrate(second, '// a comment edit\n');
    const warm = await compile(second, rulesRustArgs('app/lib.rs', 'app', { rustc: LOADED }));
    expect(warm.stderr.toString()).toBe('');
    expect(warm.exitCode).toBe(0);
    expect(readdirSync(join(second, 'out'))).toContain('libapp.rlib');
  });

  it('a sandbox with a real external/ directory (where ${output_base} resolves to the sandbox execroot itself) maps to the same store', async () => {
    const ob = tempDir();
    for (const [n, tail] of [[1, ''], [2, '// edit\n']] as const) {
      const dir = sandboxDir(ob, n);
      mkdirSync(join(dir, 'external', 'some_repo'), { recursive: true });
      writeCrate(dir, tail);
      const r = await compile(dir, rulesRustArgs('app/lib.rs', 'app', { rustc: n === 2 ? LOADED : [] }));
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
    }
    expect(crateDirsIn(join(ob, 'rustc-incremental'))).toHaveLength(1);
  });

  it('rules_rust 0.6-0.9 (only --subst pwd=${pwd}): -Cincremental=${pwd}/../../rustc-incremental is the same store', async () => {
    const ob = tempDir();
    // What 0.9.0 passes (shared/notes/rules_rust.md), plus the user's flag.
    const oldStyle = (extra: readonly string[]) => ['--subst', 'pwd=${pwd}', '--rustc-output-format', 'rendered', '--',
      RUSTC, 'app/lib.rs', '--crate-name=app', '--crate-type=rlib', '--json=artifacts,diagnostic-rendered-ansi', '--error-format=json',
      '--out-dir=out', '--codegen=opt-level=0', '--remap-path-prefix=${pwd}=.', '--emit=dep-info,link,metadata', '--edition=2018',
      '-Cincremental=${pwd}/../../rustc-incremental', ...extra];
    for (const [n, extra] of [[1, []], [2, LOADED]] as const) {
      const dir = sandboxDir(ob, n);
      writeCrate(dir, `// build ${n}\n`);
      const r = await compile(dir, oldStyle(extra));
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
    }
    expect(crateDirsIn(join(ob, 'rustc-incremental'))).toHaveLength(1);
  });

  it('with --stable-cwd false the store still works but cannot be reused from another sandbox (the control)', async () => {
    const ob = tempDir();
    const first = sandboxDir(ob, 1);
    writeCrate(first);
    const cold = await compile(first, rulesRustArgs('app/lib.rs', 'app', { wrapper: ['--stable-cwd', 'false'] }));
    expect(cold.stderr.toString()).toBe('');
    expect(cold.exitCode).toBe(0);
    expect(crateDirsIn(join(ob, 'rustc-incremental'))).toHaveLength(1);
    const second = sandboxDir(ob, 2);
    writeCrate(second, '// a comment edit\n');
    const warm = await compile(second, rulesRustArgs('app/lib.rs', 'app', { wrapper: ['--stable-cwd', 'false'], rustc: LOADED }));
    expect(warm.exitCode).not.toBe(0);
    expect(warm.stderr.toString()).toMatch(/existing incremental cache directory should be successfully loaded/);
  });

  it('processwrapper-sandbox and sandboxed-worker shapes map to the same store', async () => {
    const ob = tempDir();
    const pw = sandboxDir(ob, 3, 'processwrapper-sandbox');
    writeCrate(pw);
    const cold = await compile(pw, rulesRustArgs('app/lib.rs', 'app'));
    expect(cold.stderr.toString()).toBe('');
    expect(cold.exitCode).toBe(0);
    const worker = join(ob, 'bazel-workers', 'worker-2-Rustc', 'ws');
    writeCrate(worker, '// edit\n');
    // The worker's ${output_base} is <ob>/bazel-workers/stable: another command line, so another session.
    const w1 = await compile(worker, rulesRustArgs('app/lib.rs', 'app'));
    expect(w1.stderr.toString()).toBe('');
    expect(w1.exitCode).toBe(0);
    expect(existsSync(join(ob, 'bazel-workers', 'rustc-incremental'))).toBe(false);
    const other = join(ob, 'bazel-workers', 'worker-5-Rustc', 'ws');
    writeCrate(other, '// edit 2\n');
    const w2 = await compile(other, rulesRustArgs('app/lib.rs', 'app', { rustc: LOADED }));
    expect(w2.stderr.toString()).toBe('');
    expect(w2.exitCode).toBe(0);
  });

  it('local (no sandbox): the cwd is <output_base>/execroot/<ws> and ${output_base} already the real one', async () => {
    const ob = tempDir();
    const execroot = join(ob, 'execroot', 'ws');
    writeCrate(execroot);
    expect((await compile(execroot, rulesRustArgs('app/lib.rs', 'app'))).exitCode).toBe(0);
    appendComment(join(execroot, 'app', 'lib.rs'));
    const warm = await compile(execroot, rulesRustArgs('app/lib.rs', 'app', { rustc: LOADED }));
    expect(warm.stderr.toString()).toBe('');
    expect(warm.exitCode).toBe(0);
    expect(crateDirsIn(join(ob, 'rustc-incremental'))).toHaveLength(1);
  });
});

/** What rules_rust 0.9.0 passes (only --subst pwd), plus the user's flag (shared/notes/rules_rust.md). */
function oldStyle(incremental: string, extra: readonly string[] = []): string[] {
  return ['--subst', 'pwd=${pwd}', '--rustc-output-format', 'rendered', '--',
    RUSTC, 'app/lib.rs', '--crate-name=app', '--crate-type=rlib', '--json=artifacts,diagnostic-rendered-ansi', '--error-format=json',
    '--out-dir=out', '--codegen=opt-level=0', '--remap-path-prefix=${pwd}=.', '--emit=dep-info,link,metadata', '--edition=2018',
    incremental, ...extra];
}

/** A sandbox as every real rules_rust Rustc sandbox is: a real external/ directory (local_config_cc is always an input). */
function realSandbox(ob: string, n: number, strategy = 'linux-sandbox'): string {
  const dir = sandboxDir(ob, n, strategy);
  mkdirSync(join(dir, 'external', 'local_config_cc'), { recursive: true });
  return dir;
}

/** The lines seedwrap itself printed. */
const ownLines = (stderr: Buffer) => stderr.toString().split('\n').filter((l) => l.startsWith('seedwrap: '));

describe.runIf(haveRustc && canNamespace)('every accepted spelling with a real external/ directory, and never silent otherwise (issue 15, items 4 and 5)', () => {
  it('rules_rust 0.9: -Cincremental=${pwd}/../../rustc-incremental from sandboxes with a real external/ is the store, reused from the next sandbox', async () => {
    const ob = tempDir();
    for (const [n, extra] of [[1, []], [2, LOADED]] as const) {
      const dir = realSandbox(ob, n);
      writeCrate(dir, `// build ${n}\n`);
      const r = await compile(dir, oldStyle('-Cincremental=${pwd}/../../rustc-incremental', extra));
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
    }
    expect(crateDirsIn(join(ob, 'rustc-incremental'))).toHaveLength(1);
  });

  it('the same spelling from sandboxed workers with a real external/ is the store too', async () => {
    const ob = tempDir();
    mkdirSync(join(ob, 'execroot', 'ws'), { recursive: true });
    for (const [n, extra] of [[1, []], [2, LOADED]] as const) {
      const dir = join(ob, 'bazel-workers', `worker-${n}-Rustc`, 'ws');
      mkdirSync(join(dir, 'external', 'local_config_cc'), { recursive: true });
      writeCrate(dir, `// build ${n}\n`);
      const r = await compile(dir, oldStyle('-Cincremental=${pwd}/../../rustc-incremental', extra));
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
    }
    expect(crateDirsIn(join(ob, 'rustc-incremental'))).toHaveLength(1);
  });

  it('rules_rust 0.9 with ${output_base} (never substituted): one warning saying what to write, a cold compile, no literal ${output_base} directory', async () => {
    const ob = tempDir();
    const dir = realSandbox(ob, 1);
    writeCrate(dir);
    const r = await compile(dir, oldStyle('-Cincremental=${output_base}/rustc-incremental'));
    expect(r.exitCode).toBe(0);
    const lines = ownLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^seedwrap: -C incremental=\$\{output_base\}\/rustc-incremental: "\$\{output_base\}" was not substituted .*thrown away; write -Cincremental=\$\{pwd\}\/\.\.\/\.\.\/rustc-incremental .*--sandbox_writable_path; compiling from cold in a private temporary directory$/);
    expect(readdirSync(dir).sort()).toEqual(['app', 'external', 'out']);
    expect(existsSync(join(ob, 'rustc-incremental'))).toBe(false);
  });

  it('a relative directory in the sandbox: one warning that the state is thrown away; bazel-out/ (a declared tree) says nothing', async () => {
    const ob = tempDir();
    const dir = realSandbox(ob, 1);
    writeCrate(dir);
    const r = await compile(dir, oldStyle('-Cincremental=rustc-incremental'));
    expect(r.exitCode).toBe(0);
    expect(ownLines(r.stderr)).toEqual([expect.stringMatching(/^seedwrap: -C incremental=rustc-incremental lies in the sandbox, which Bazel deletes after the action: rustc's state will be thrown away; write /)]);
    const quiet = await compile(dir, oldStyle('-Cincremental=bazel-out/k8-fastbuild/bin/app_incr'));
    expect(quiet.stderr.toString()).toBe('');
    expect(quiet.exitCode).toBe(0);
  });

  it('${output_base}/execroot and ${output_base}/sandbox/x are refused with one line, never bound: the real execroot is untouched and the build succeeds', async () => {
    for (const external of [false, true]) {
      const ob = tempDir();
      const dir = external ? realSandbox(ob, 1) : sandboxDir(ob, 1);
      writeCrate(dir);
      mkdirSync(join(ob, 'execroot', 'ws', 'bazel-out'), { recursive: true });
      writeFileSync(join(ob, 'execroot', 'ws', 'bazel-out', 'keep'), 'kept');
      for (const x of ['execroot', 'sandbox/x']) {
        const r = await compile(dir, rulesRustArgs('app/lib.rs', 'app', { incremental: `-Cincremental=\${output_base}/${x}` }));
        expect(r.exitCode, r.stderr.toString()).toBe(0);
        expect(ownLines(r.stderr), `${x} external=${external}`).toEqual([expect.stringMatching(/^seedwrap: -C incremental=.*: .*; compiling from cold in a private temporary directory$/)]);
        expect(readdirSync(join(ob, 'execroot')).sort()).toEqual(['ws']);
        expect(readdirSync(join(ob, 'execroot', 'ws')).sort()).toEqual(['bazel-out']);
        expect(readdirSync(join(ob, 'execroot', 'ws', 'bazel-out'))).toEqual(['keep']);
        expect(readdirSync(join(ob, 'sandbox')).sort()).toEqual(['linux-sandbox']);
        expect(readdirSync(join(dir, 'out'))).toContain('libapp.rlib');
      }
    }
  });

  it('a planted external symlink in the sandbox cwd: ${output_base} keeps upstream\'s value, but nothing is created or bound where it leads', async () => {
    const ob = tempDir();
    const elsewhere = tempDir();
    const dir = sandboxDir(ob, 1);
    writeCrate(dir);
    mkdirSync(join(elsewhere, 'external'));
    symlinkSync(join(elsewhere, 'external'), join(dir, 'external'));
    const r = await compile(dir, rulesRustArgs('app/lib.rs', 'app'), { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    // Byte-compatible with upstream: ${output_base} is the parent of the canonical ./external.
    expect(r.stderr.toString()).toContain(`"--remap-path-prefix=${elsewhere}=ob"`);
    expect(ownLines(r.stderr).filter((l) => !l.startsWith('seedwrap: debug: '))).toEqual([expect.stringMatching(new RegExp(`^seedwrap: -C incremental=${elsewhere}/rustc-incremental: lies under ${elsewhere}, where the execroot's external/ leads`))]);
    expect(readdirSync(elsewhere)).toEqual(['external']);
    expect(existsSync(join(ob, 'rustc-incremental'))).toBe(false);
  });
});

describe.runIf(haveRustc)('an output user root named …/sandbox/… is not a sandbox', () => {
  it('its local execroot runs in place: external/ (links into the output base) stays visible to rustc', async () => {
    // --output_user_root=<tmp>/sandbox/u gives <tmp>/sandbox/u/<md5>; its execroot has a sandbox's shape.
    const tmp = tempDir();
    const ob = join(tmp, 'sandbox', 'u', '0123abcd');
    const execroot = join(ob, 'execroot', 'ws');
    mkdirSync(execroot, { recursive: true });
    writeFileSync(join(ob, 'execroot', 'DO_NOT_BUILD_HERE'), '/home/me/ws');
    const root = copyRegistryCrate('itoa', ob, 'external/crate_index__itoa');
    mkdirSync(join(execroot, 'external'));
    symlinkSync(join(ob, 'external', 'crate_index__itoa'), join(execroot, 'external', 'crate_index__itoa'));
    mkdirSync(join(execroot, 'out'));
    writeCrate(execroot);
    for (const [file, crate] of [[root, 'itoa'], ['app/lib.rs', 'app']] as const) {
      const r = await compile(execroot, rulesRustArgs(file, crate));
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
    }
    expect(crateDirsIn(join(ob, 'rustc-incremental'))).toHaveLength(1);
  });
});
