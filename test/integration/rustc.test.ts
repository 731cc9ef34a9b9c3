import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { tempDir } from '../helpers/tmp.ts';
import { runBundle } from '../helpers/wrapper.ts';

// The real rustc on this machine (rustup's, in ~/.cargo/bin).
const RUSTC = process.env.RUSTC ?? join(process.env.HOME ?? '/root', '.cargo/bin/rustc');

describe('real rustc', () => {
  it('shows the same rendered diagnostic through seedwrap as from rustc directly', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.rs'), 'pub fn f() -> u32 {\n    "not a number"\n}\n');
    const base = ['--crate-type=lib', '--edition=2021', 'bad.rs'];
    const direct = await execa(RUSTC, base, { cwd: dir, reject: false, encoding: 'buffer', stripFinalNewline: false });
    expect(direct.exitCode).toBe(1);
    const wrapped = await runBundle(['--rustc-output-format', 'rendered', '--', RUSTC, ...base, '--error-format=json', '--json=artifacts'], { cwd: dir });
    expect(wrapped.exitCode).toBe(1);
    expect(wrapped.stderr.toString()).toContain('error[E0308]: mismatched types');
    expect(wrapped.stderr.equals(Buffer.from(direct.stderr))).toBe(true);
  });
  it('json mode forwards rustc\'s JSON diagnostics line for line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'w.rs'), 'pub fn f() { let unused = 1; }\n');
    const r = await runBundle(['--rustc-output-format', 'json', '--', RUSTC, '--crate-type=lib', 'w.rs', '--error-format=json', '--json=artifacts', '--emit=metadata'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const lines = r.stderr.toString().trimEnd().split('\n').map((l) => JSON.parse(l) as { $message_type: string; rendered?: string });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.$message_type === 'diagnostic')).toBe(true);
    expect(lines[0]!.rendered).toContain('unused variable');
  });
  it('pipelining: --rustc-quit-on-rmeta leaves a valid .rmeta and exits 0', async () => {
    const dir = tempDir();
    // Enough code that codegen is still running when metadata is written.
    const fns = Array.from({ length: 400 }, (_, i) => `pub fn f${i}(x: u64) -> u64 { (0..x).map(|v| v * ${i} + 1).filter(|v| v % 3 == 0).sum() }`).join('\n');
    writeFileSync(join(dir, 'dep.rs'), fns + '\n');
    const r = await runBundle([
      '--rustc-output-format', 'rendered', '--rustc-quit-on-rmeta', 'true', '--',
      RUSTC, '--crate-type=rlib', '--crate-name=dep', 'dep.rs', '--emit=metadata,link', '--error-format=json', '--json=artifacts', '-Copt-level=2',
    ], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toBe('');
    expect(existsSync(join(dir, 'libdep.rmeta'))).toBe(true);
    // The .rmeta is usable: a dependent crate type-checks against it.
    writeFileSync(join(dir, 'user.rs'), 'pub fn g() -> u64 { dep::f7(10) }\n');
    const user = await execa(RUSTC, ['--crate-type=lib', 'user.rs', '--edition=2021', '--emit=metadata', '--extern', `dep=${join(dir, 'libdep.rmeta')}`], { cwd: dir, reject: false });
    expect(user.stderr).toBe('');
    expect(user.exitCode).toBe(0);
  });
});
