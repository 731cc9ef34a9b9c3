/**
 * Issue 10 items 7 and 9: line files (param, arg, env, status files, the
 * worker flagfile) that are FIFOs, devices or huge, and param files that
 * expand without bound. Each case runs the built bundle in its own process
 * with a timeout, so a blocking read fails the test instead of hanging it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_FILE_BYTES } from '../../src/wrapper/lineFile.ts';
import { MAX_EXPANDED_ARGS } from '../../src/wrapper/paramFile.ts';
import { tempDir } from '../helpers/tmp.ts';
import { BUNDLE, isRoot, NODE } from './helpers.ts';

async function seedwrap(dir: string, args: string[]) {
  const r = await execa(NODE, ['--', BUNDLE, ...args], { cwd: dir, reject: false, timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, extendEnv: false });
  expect(r.timedOut, 'seedwrap blocked or ran unbounded').toBe(false);
  return r;
}

function expectOneLine(stderr: string, ...parts: RegExp[]): void {
  expect(stderr.split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^seedwrap: /);
  for (const p of parts) expect(stderr).toMatch(p);
}

describe('line files that are not regular files are refused, never opened for reading', () => {
  const cases: [string, (f: string) => string[]][] = [
    ['a param file', (f) => ['--', 'true', `@${f}`]],
    ['--arg-file', (f) => ['--arg-file', f, '--', 'true']],
    ['--env-file', (f) => ['--env-file', f, '--', 'true']],
    ['--stable-status-file', (f) => ['--stable-status-file', f, '--', 'true']],
    ['--volatile-status-file', (f) => ['--volatile-status-file', f, '--', 'true']],
    ['a worker-style flagfile', (f) => [`@${f}`]],
  ];
  for (const [what, argv] of cases) {
    it(`${what} that is a FIFO (no writer)`, async () => {
      const dir = tempDir();
      execFileSync('mkfifo', [join(dir, 'f.params')]);
      const r = await seedwrap(dir, argv('f.params'));
      expect(r.exitCode).toBe(1);
      expectOneLine(r.stderr, /f\.params/, /FIFO/);
    });
  }
  it.skipIf(!isRoot)('a param file that is a zero device (mknod in the temp dir)', async () => {
    const dir = tempDir();
    execFileSync('mknod', [join(dir, 'zero'), 'c', '1', '5']);
    const r = await seedwrap(dir, ['--', 'true', '@zero']);
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, /zero/, /character device/);
    expect(existsSync(join(dir, 'zero.expanded'))).toBe(false);
  });
  it('a param file larger than the limit (sparse) is refused before it is read', async () => {
    const dir = tempDir();
    const fd = openSync(join(dir, 'big.params'), 'w');
    ftruncateSync(fd, MAX_LINE_FILE_BYTES + 1);
    closeSync(fd);
    const r = await seedwrap(dir, ['--', 'true', '@big.params']);
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, /big\.params/, new RegExp(`limit for a line file \\(${MAX_LINE_FILE_BYTES} bytes\\)`));
    expect(existsSync(join(dir, 'big.params.expanded'))).toBe(false);
  });
});

describe('the expanded param file', () => {
  it('P.expanded that is a FIFO without a reader: one line, never a blocked open', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.params'), '-v\n');
    execFileSync('mkfifo', [join(dir, 'x.params.expanded')]);
    const r = await seedwrap(dir, ['--', 'true', '@x.params']);
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, /x\.params\.expanded/, /ENXIO/);
  });
});

describe('param-file expansion is bounded in total', () => {
  it('a diamond of 23 tiny param files (2^22 arguments) stops at the limit with a clear error', async () => {
    const dir = tempDir();
    for (let i = 0; i < 22; i++) writeFileSync(join(dir, `p${i}`), `@p${i + 1}\n@p${i + 1}\n`);
    writeFileSync(join(dir, 'p22'), 'x\n');
    const r = await seedwrap(dir, ['--', 'true', '@p0']);
    expect(r.exitCode).toBe(1);
    expectOneLine(r.stderr, /@p0/, new RegExp(`more than ${MAX_EXPANDED_ARGS} arguments`));
    expect(existsSync(join(dir, 'p0.expanded'))).toBe(false);
  });
  it('a diamond below the limit still expands completely (each file read once)', async () => {
    const dir = tempDir();
    for (let i = 0; i < 16; i++) writeFileSync(join(dir, `p${i}`), `@p${i + 1}\n@p${i + 1}\n`);
    writeFileSync(join(dir, 'p16'), 'x\n');
    const r = await seedwrap(dir, ['--', 'true', '@p0']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir, 'p0.expanded'), 'utf8')).toBe('x\n'.repeat(2 ** 16));
  });
});
