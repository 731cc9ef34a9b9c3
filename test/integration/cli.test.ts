/**
 * The CLI as a person meets it (issue 11), through the built bundle as a real
 * process: help, version, usage errors and their one exit code, and the
 * errors of `seedwrap seed` a CI script depends on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { ROOT, SEEDWRAP, runBundle } from '../helpers/wrapper.ts';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('help and version: stdout, exit 0, nothing run', () => {
  it.each([
    [['--help']],
    [['-h']],
    [['--persistent_worker', '--help']],
    [['--persistent_worker', '-h']],
  ])('%j prints the flag table', async (args) => {
    const r = await runBundle(args, { cwd: tempDir() });
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString()).toMatch(/^usage: seedwrap \[FLAGS\] -- PROGRAM/);
    expect(r.stdout.toString()).toContain('--seed-min-mb');
  });
  it.each([[['seed', '--help']], [['seed', '-h']]])('%j prints the seed command\'s help', async (args) => {
    const r = await runBundle(args, { cwd: tempDir() });
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString()).toMatch(/^Usage: seedwrap seed \[options\] <SRC> <DEST>/);
    expect(r.stdout.toString()).toContain('--allow-missing');
  });
  it.each([[['--version']], [['-V']], [['--persistent_worker', '--version']], [['seed', '--version']]])('%j prints package.json\'s version', async (args) => {
    const r = await runBundle(args, { cwd: tempDir() });
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString()).toBe(args[0] === 'seed' ? `${VERSION}\n` : `seedwrap ${VERSION}\n`);
  });
});

describe('usage errors: one line naming the flag, exit 2', () => {
  it.each([
    [['--seed-min-mb=0', '--', '/bin/true'], 'seedwrap: missing parameter(s) for --seed-min-mb=0 (flags take no "=": write --seed-min-mb 0)'],
    [['--copyseed', 'a', 'b', '--', '/bin/true'], 'seedwrap: unknown flag "--copyseed" (did you mean --copy-seed?)'],
    [['--stable-cwd', 'yes', '--', '/bin/true'], 'seedwrap: --stable-cwd "yes": expected true or false'],
    [['--rustc-quit-on-rmeta', 'on', '--', '/bin/true'], 'seedwrap: --rustc-quit-on-rmeta "on": expected true or false'],
    [['--seed-min-mb', 'x', '--', '/bin/true'], 'seedwrap: --seed-min-mb: expected an unsigned integer number of MiB (0 = always seed), got "x"'],
    [['--subst', 'x', '--', '/bin/true'], 'seedwrap: --subst "x" has no "=" (expected KEY=VALUE)'],
    [['--'], 'seedwrap: no program to run: give one after -- (or in an --arg-file)'],
    [['seed', 'only-src'], "seedwrap seed: missing required argument 'DEST'"],
    [['seed', 'a', 'b', '--min-mb', 'x'], 'seedwrap seed: --min-mb: expected an unsigned integer number of MiB (0 = always seed), got "x"'],
    [['--persistent_worker', '--worker-incremental-max-mb', 'x'], "seedwrap worker: --worker-incremental-max-mb: expected a whole number of MiB, got 'x'"],
  ])('%j', async (args, line) => {
    const r = await runBundle(args as string[], { cwd: tempDir() });
    expect(r.stderr.toString()).toBe(`${line}\n`);
    expect(r.exitCode).toBe(2);
  });
});

describe('--copy-output names the path that failed', () => {
  it('an unwritable destination: DEST and its missing parent, not the source', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'srcfile'), 'x');
    const r = await runBundle(['--copy-output', 'srcfile', '/nonexistent/x', '--', '/bin/true'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toBe('seedwrap: --copy-output srcfile /nonexistent/x: cannot write /nonexistent/x: /nonexistent does not exist\n');
  });
  it('a missing source: the source', async () => {
    const dir = tempDir();
    const r = await runBundle(['--copy-output', 'gone', 'out', '--', '/bin/true'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toBe(`seedwrap: --copy-output gone out: cannot read gone: ENOENT (${join(dir, 'gone')})\n`);
  });
});

describe('seedwrap seed', () => {
  const tree = (dir: string) => {
    mkdirSync(join(dir, 'src/a'), { recursive: true });
    writeFileSync(join(dir, 'src/a/f'), 'data');
  };
  it('a missing SRC is an error that creates nothing, unless --allow-missing', async () => {
    const dir = tempDir();
    const r = await runBundle(['seed', 'typo/incr', 'd2'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toBe('seedwrap seed: SRC typo/incr: does not exist (give --allow-missing to treat a missing seed as a cold start)\n');
    expect(existsSync(join(dir, 'd2'))).toBe(false);
    const cold = await runBundle(['seed', 'typo/incr', 'd2', '--allow-missing'], { cwd: dir });
    expect(cold.exitCode).toBe(0);
    expect(cold.stdout.toString()).toBe('nothing to seed: the source does not exist (cold start)\n');
    expect(existsSync(join(dir, 'd2'))).toBe(true);
  });
  it('the Bazel flags keep a missing seed as a cold start', async () => {
    const dir = tempDir();
    const r = await runBundle(['--seed-prev-dir', 'typo/incr', 'd3', '--seed-min-mb', '0', '--exit-early', 'true'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toBe('');
  });
  it('--json: an error is also a JSON object on stdout', async () => {
    const dir = tempDir();
    const missing = await runBundle(['seed', 'typo', 'd', '--json'], { cwd: dir });
    expect(missing.exitCode).toBe(1);
    expect(JSON.parse(missing.stdout.toString())).toEqual({
      outcome: 'error', exitCode: 1,
      error: { code: 'INPUT', message: 'SRC typo: does not exist (give --allow-missing to treat a missing seed as a cold start)' },
    });
    expect(missing.stderr.toString()).toMatch(/^seedwrap seed: SRC typo: does not exist/);
    const usage = await runBundle(['seed', 'a', 'b', '--json', '--bogus'], { cwd: dir });
    expect(usage.exitCode).toBe(2);
    expect(JSON.parse(usage.stdout.toString())).toEqual({ outcome: 'error', exitCode: 2, error: { code: 'USAGE', message: "unknown option '--bogus'" } });
  });
  it('--dry-run --json reports "would-seed" and writes nothing', async () => {
    const dir = tempDir();
    tree(dir);
    const r = await runBundle(['seed', 'src', 'dest', '--dry-run', '--json'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ outcome: 'would-seed', dryRun: true, files: 1, linked: 0 });
    expect(existsSync(join(dir, 'dest'))).toBe(false);
  });

  // Root ignores permission bits, so the unwritable parent is a read-only bind
  // mount, made in a private mount namespace that ends with the command.
  const canMount = spawnSync('unshare', ['-m', 'true']).status === 0;
  it.skipIf(!canMount)('an unwritable parent of DEST is named, not the internal staging path', () => {
    const dir = tempDir();
    tree(dir);
    mkdirSync(join(dir, 'ro'));
    const script = `mount --bind ro ro && mount -o remount,ro,bind ro && exec "$@" seed src ro/dest --json`;
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', ...SEEDWRAP], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`seedwrap seed: cannot create DEST ro/dest: ${join(dir, 'ro')} is not writable (EROFS)\n`);
    expect(r.stderr).not.toMatch(/staging/);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'error', error: { code: 'SEED' } });
  });
});
