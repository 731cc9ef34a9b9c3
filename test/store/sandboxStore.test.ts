import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { appendComment, canNamespace, compile, crateDirsIn, haveRustc, RUSTC, rulesRustArgs, sandboxDir, writeCrate } from './helpers.ts';

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
