/**
 * The differences from upstream process_wrapper (rules_rust e22086c0) found in
 * issue 11, each run through the built bundle with a fake rustc and asserted
 * byte for byte. docs/compatibility.md names the test for each.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { DUMP, FAKE_RUSTC, NODE, runBundle, script } from '../helpers/wrapper.ts';

const NOT_JSON = /^seedwrap: failed to process stderr: error parsing rustc output as json \(line (\d+) of rustc's stderr, forwarded above as is\)\n$/;
const diag = (rendered: string) => JSON.stringify({ $message_type: 'diagnostic', message: 'm', rendered });

describe('a rustc line that is not JSON (--rustc-output-format)', () => {
  it('forwards it and the rest raw, then one line saying why, exit 1 although rustc exited 0', async () => {
    const dir = tempDir();
    const rest = `${diag('second\n')}\ntail without newline`;
    const steps = [{ stderr: `${diag('first\n')}\nnot json\n${rest}` }, { exit: 0 }];
    const r = await runBundle(['--rustc-output-format', 'rendered', '--touch-file', 't', '--', NODE, FAKE_RUSTC, script(dir, steps)], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const text = r.stderr.toString();
    const forwarded = `first\nnot json\n${rest}`;
    expect(text.startsWith(forwarded)).toBe(true);
    expect(text.slice(forwarded.length)).toMatch(NOT_JSON);
    expect(text.slice(forwarded.length).match(NOT_JSON)![1]).toBe('2');
    expect(existsSync(join(dir, 't'))).toBe(false); // a failed action: no after-success steps
  });
  it('exit 1 also when rustc failed with another code (upstream exits 1 on the processing error)', async () => {
    const dir = tempDir();
    const r = await runBundle(['--rustc-output-format', 'json', '--', NODE, FAKE_RUSTC, script(dir, [{ stderr: 'plain\n' }, { exit: 3 }])], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toMatch(/^plain\nseedwrap: failed to process stderr: error parsing rustc output as json \(line 1 /);
  });
  it('--output-file stops at the failing line; --stderr-file gets the rest, the error line goes to the real stderr', async () => {
    const dir = tempDir();
    const first = diag('first\n');
    const steps = [{ stderr: `${first}\nnot json\nafter 1\nafter 2\n` }, { exit: 0 }];
    const r = await runBundle(['--rustc-output-format', 'json', '--output-file', 'raw', '--stderr-file', 'err', '--', NODE, FAKE_RUSTC, script(dir, steps)], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(readFileSync(join(dir, 'raw'), 'utf8')).toBe(`${first}\nnot json\n`);
    expect(readFileSync(join(dir, 'err'), 'utf8')).toBe(`${first}\nnot json\nafter 1\nafter 2\n`);
    expect(r.stderr.toString()).toMatch(NOT_JSON);
  });
});

describe('--copy-output', () => {
  it('SRC and DEST may come in two occurrences (upstream accumulates the values)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'src'), 'payload');
    const r = await runBundle(['--copy-output', 'src', '--copy-output', 'dest', '--', '/bin/true'], { cwd: dir });
    expect(r.stderr.toString()).toBe('');
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'dest'), 'utf8')).toBe('payload');
  });
});

describe('a program that cannot be started', () => {
  it('leaves no --stderr-file and no --output-file; --stdout-file is created before the spawn, as upstream does', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'kept'), 'old stderr');
    const r = await runBundle(['--stdout-file', 'out', '--stderr-file', 'err', '--output-file', 'raw', '--', join(dir, 'no-such-program')], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toMatch(/^seedwrap: failed to spawn child process .*no-such-program: ENOENT/);
    expect(existsSync(join(dir, 'err'))).toBe(false);
    expect(existsSync(join(dir, 'raw'))).toBe(false);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('');
    // A file already there is not truncated either.
    const again = await runBundle(['--stderr-file', 'kept', '--', join(dir, 'no-such-program')], { cwd: dir });
    expect(again.exitCode).toBe(1);
    expect(readFileSync(join(dir, 'kept'), 'utf8')).toBe('old stderr');
  });
  it('a program that starts still gets both files, created even when it writes nothing', async () => {
    const dir = tempDir();
    const r = await runBundle(['--stderr-file', 'err', '--output-file', 'raw', '--', '/bin/true'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'err'), 'utf8')).toBe('');
    expect(readFileSync(join(dir, 'raw'), 'utf8')).toBe('');
  });
});

describe('--out-dir without --subst pwd=${pwd} (divergence: expanded)', () => {
  it('OUT_DIR is the absolute cwd/D, not the literal "${pwd}/D" upstream leaves', async () => {
    const dir = tempDir();
    const r = await runBundle(['--out-dir', 'o', '--', NODE, DUMP], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout.toString()) as { env: Record<string, string> }).env.OUT_DIR).toBe(join(dir, 'o'));
  });
});

describe('diagnostic lines, byte for byte', () => {
  it('LLVM noise in json mode: a JSON warning whose message and rendered keep the newline, on a line of its own', async () => {
    const dir = tempDir();
    const noise = "'+zaamo' is not a recognized feature for this target (ignoring feature)";
    const next = diag('next\n');
    const r = await runBundle(['--rustc-output-format', 'json', '--', NODE, FAKE_RUSTC, script(dir, [{ stderr: `${noise}\n${next}\n` }])], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const lines = r.stderr.toString().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toEqual({ $message_type: 'diagnostic', message: `${noise}\n`, code: null, level: 'warning', spans: [], children: [], rendered: `${noise}\n` });
    expect(lines[1]).toBe(next);
    expect(lines[2]).toBe('');
  });
  it('a last JSON line without a newline is forwarded without one', async () => {
    const dir = tempDir();
    const line = diag('x\n');
    const r = await runBundle(['--rustc-output-format', 'json', '--', NODE, FAKE_RUSTC, script(dir, [{ stderr: `${line}\n${line}` }])], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toBe(`${line}\n${line}`);
  });
  it('a JSON line holding a lone surrogate is forwarded raw, as upstream (whose parser rejects it) does, and fails', async () => {
    const dir = tempDir();
    const lone = '{"$message_type":"diagnostic","rendered":"bad \\ud800 here\\n"}';
    const r = await runBundle(['--rustc-output-format', 'rendered', '--', NODE, FAKE_RUSTC, script(dir, [{ stderr: `${lone}\n` }])], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.subarray(0, lone.length + 1).equals(Buffer.from(`${lone}\n`))).toBe(true);
    expect(r.stderr.subarray(lone.length + 1).toString()).toMatch(NOT_JSON);
  });
});
