import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { DUMP, FAKE_RUSTC, NODE, runMain, script } from '../helpers/wrapper.ts';

interface Dump { argv: string[]; env: Record<string, string>; cwd: string }
const dumpOf = (out: Buffer): Dump => JSON.parse(out.toString());

describe('child argv, env and cwd', () => {
  it('passes args after --, then arg-file lines, substituted', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'args'), 'from-file-${k}\n\n  \n');
    const r = await runMain(['--subst', 'k=V', '--arg-file', 'args', '--', NODE, DUMP, '${k}', '--flag'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const d = dumpOf(r.stdout);
    expect(d.argv).toEqual(['V', '--flag', 'from-file-V', '  ']);
    expect(d.cwd).toBe(dir);
  });
  it('the child gets exactly the computed env', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'e'), 'FROM_FILE=${pwd}/x\n');
    const r = await runMain(['--env-file', 'e', '--subst', 'pwd=${pwd}', '--out-dir', 'o', '--', NODE, DUMP], { cwd: dir, env: { KEEP: 'yes' } });
    const d = dumpOf(r.stdout);
    expect(d.env.KEEP).toBe('yes');
    expect(d.env.FROM_FILE).toBe(`${dir}/x`);
    expect(d.env.OUT_DIR).toBe(join(dir, 'o'));
    expect(Object.keys(d.env).sort()).toEqual(['FROM_FILE', 'KEEP', 'OUT_DIR', 'PATH']);
  });
  it('looks a bare program up in the child\'s PATH, not ours', async () => {
    const dir = tempDir();
    const bin = join(dir, 'bin');
    const { mkdirSync, symlinkSync } = await import('node:fs');
    mkdirSync(bin);
    writeFileSync(join(bin, 'only-here'), `#!/bin/sh\necho found-in-child-path\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'e'), `PATH=${bin}:/usr/bin:/bin\n`);
    const r = await runMain(['--env-file', 'e', '--', 'only-here'], { cwd: dir });
    expect(r.stdout.toString()).toBe('found-in-child-path\n');
    void symlinkSync;
  });
  it('require-explicit-unstable-features appends -Zallow-features= last, unless given', async () => {
    const dir = tempDir();
    const a = await runMain(['--require-explicit-unstable-features', 'true', '--', NODE, DUMP, 'x'], { cwd: dir });
    expect(dumpOf(a.stdout).argv).toEqual(['x', '-Zallow-features=']);
    const b = await runMain(['--require-explicit-unstable-features', 'true', '--', NODE, DUMP, '-Zallow-features=foo'], { cwd: dir });
    expect(dumpOf(b.stdout).argv).toEqual(['-Zallow-features=foo']);
  });
});

describe('exit status and after-success steps', () => {
  it('returns the child\'s exit code and skips after-success steps on failure', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'src'), 'payload');
    const args = ['--touch-file', 'touched', '--copy-output', 'src', 'copied', '--write-unused-inputs', 'unused', 'bazel-out/k8/bin/seed'];
    const fail = await runMain([...args, '--', NODE, FAKE_RUSTC, script(dir, [{ exit: 3 }])], { cwd: dir });
    expect(fail.exitCode).toBe(3);
    expect(existsSync(join(dir, 'touched')) || existsSync(join(dir, 'copied')) || existsSync(join(dir, 'unused'))).toBe(false);
    const ok = await runMain([...args, '--', NODE, FAKE_RUSTC, script(dir, [{ exit: 0 }])], { cwd: dir });
    expect(ok.exitCode).toBe(0);
    expect(statSync(join(dir, 'touched')).size).toBe(0);
    expect(readFileSync(join(dir, 'copied'), 'utf8')).toBe('payload');
    expect(readFileSync(join(dir, 'unused'), 'utf8')).toBe('bazel-out/k8/bin/seed\n');
  });
  it('a signal death the wrapper did not cause is exit 1', async () => {
    const dir = tempDir();
    const r = await runMain(['--', NODE, FAKE_RUSTC, script(dir, [{ signal: 'SIGSEGV' }])], { cwd: dir });
    expect(r.exitCode).toBe(1);
  });
  it('a failure to write the unused-inputs list is an error naming the file', async () => {
    const dir = tempDir();
    const r = await runMain(['--write-unused-inputs', 'no/such/dir/list', 'x', '--', NODE, FAKE_RUSTC, script(dir, [])], { cwd: dir });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.toString()).toMatch(/--write-unused-inputs no\/such\/dir\/list: ENOENT/);
  });
  it('--stdout-file receives stdout; --stderr-file the processed stderr; --output-file raw lines', async () => {
    const dir = tempDir();
    const diag = JSON.stringify({ $message_type: 'diagnostic', rendered: 'warning: w\n' });
    const steps = [{ stdout: 'out\n' }, { stderr: `${diag}\n{"emit":"link"}\n` }];
    const r = await runMain(['--stdout-file', 'o', '--stderr-file', 'e', '--output-file', 'raw', '--rustc-output-format', 'rendered', '--', NODE, FAKE_RUSTC, script(dir, steps)], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr.length).toBe(0);
    expect(readFileSync(join(dir, 'o'), 'utf8')).toBe('out\n');
    expect(readFileSync(join(dir, 'e'), 'utf8')).toBe('warning: w\n');
    expect(readFileSync(join(dir, 'raw'), 'utf8')).toBe(`${diag}\n{"emit":"link"}\n`);
  });
  it('--exit-early true runs no child but still processes argv', async () => {
    const dir = tempDir();
    const r = await runMain(['--exit-early', 'true', '--touch-file', 't', '--', NODE, FAKE_RUSTC, script(dir, [{ exit: 9 }])], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const bad = await runMain(['--exit-early', 'true', '--', '@missing.params'], { cwd: dir });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr.toString()).toMatch(/param file @missing.params: cannot read/);
  });
});

describe('rustc output processing', () => {
  it('a non-JSON line is forwarded with the rest of stderr, and the wrapper fails', async () => {
    const dir = tempDir();
    const diag = JSON.stringify({ rendered: 'first\n' });
    const steps = [{ stderr: `${diag}\nnot json\n${diag}\ntail` }, { exit: 0 }];
    const r = await runMain(['--rustc-output-format', 'rendered', '--', NODE, FAKE_RUSTC, script(dir, steps)], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toBe(`first\nnot json\n${diag}\ntail` +
      "seedwrap: failed to process stderr: error parsing rustc output as json (line 2 of rustc's stderr, forwarded above as is)\n");
  });
  it('--rustc-quit-on-rmeta kills rustc after the metadata artifact and exits 0', async () => {
    const dir = tempDir();
    const steps = [{ stderr: '{"$message_type":"artifact","artifact":"libx.rmeta","emit":"metadata"}\n' }, { hang: true }];
    const started = Date.now();
    const r = await runMain(['--rustc-output-format', 'rendered', '--rustc-quit-on-rmeta', 'true', '--touch-file', 't', '--', NODE, FAKE_RUSTC, script(dir, steps)], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(existsSync(join(dir, 't'))).toBe(true);
    expect(Date.now() - started).toBeLessThan(30_000); // it would hang forever otherwise
  });
  it('aborting the signal (worker cancel) kills the child', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const pending = runMain(['--', NODE, FAKE_RUSTC, script(dir, [{ hang: true }])], { cwd: dir, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    expect((await pending).exitCode).toBe(1);
  });
});

describe('bad input: one clear line, non-zero exit, no child started', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown flag', ['--bogus', 'x', '--', 'p'], /unknown flag "--bogus"/],
    ['missing value', ['--touch-file', '--', 'p'], /missing parameter\(s\) for --touch-file/],
    ['subst without =', ['--subst', 'nokey', '--', 'p'], /--subst "nokey" has no "="/],
    ['unreadable env file', ['--env-file', 'missing.env', '--', 'p'], /--env-file missing.env: cannot read .*ENOENT/],
    ['unreadable arg file', ['--arg-file', 'missing.args', '--', 'p'], /--arg-file missing.args: cannot read/],
    ['bad output format', ['--rustc-output-format', 'yaml', '--', 'p'], /--rustc-output-format "yaml"/],
    ['same copy-output paths', ['--copy-output', 'a', 'a', '--', 'p'], /--copy-output source and destination are the same file: a/],
    ['no program', ['--subst', 'a=b'], /no program to run/],
    ['no program after --', ['--'], /no program to run/],
    ['program not found', ['--', 'no-such-program-anywhere'], /failed to spawn child process no-such-program-anywhere: ENOENT/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const dir = tempDir();
      const r = await runMain(args, { cwd: dir });
      expect(r.exitCode).not.toBe(0);
      const text = r.stderr.toString();
      expect(text).toMatch(message);
      expect(text.trimEnd().split('\n')).toHaveLength(1);
    });
  }
  it('malformed status file stops the child from starting', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'stable'), 'BAD\n');
    const r = await runMain(['--stable-status-file', 'stable', '--', NODE, FAKE_RUSTC, script(dir, [{ touch: join(dir, 'ran') }])], { cwd: dir });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.toString()).toMatch(/--stable-status-file stable: malformed status line "BAD"/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });
});
