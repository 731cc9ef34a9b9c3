/**
 * The lazy chunks (worker, seeding engine, `seed` command) sit at the end of
 * dist/seedwrap.cjs as `//chunk N "..." ID` comments (the last one the main
 * program itself) and are read back from the
 * file itself when imported (scripts/build.mjs): they must load from a copy
 * of the file anywhere, nested ones (the worker's seeding engine) included.
 * With SEEDWRAP_TEST_BIN (the single executable) the copy is of that
 * executable, whose chunks are SEA assets: its main script holds no
 * `//chunk` line, so reading the file instead would fail these tests.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { tempDir } from '../helpers/tmp.ts';
import { BUNDLE, NODE, TEST_BIN } from '../helpers/wrapper.ts';

function copyOfBundle(): { dir: string; command: [string, ...string[]] } {
  const dir = tempDir();
  const exe = join(dir, 'elsewhere', 'seedwrap');
  mkdirSync(join(dir, 'elsewhere'));
  copyFileSync(TEST_BIN ?? BUNDLE, exe);
  chmodSync(exe, 0o755);
  return { dir, command: TEST_BIN ? [exe] : [NODE, exe] };
}

function seedTree(dir: string): string {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'sub', 'a'), 'aaa');
  writeFileSync(join(src, 'b'), 'bb');
  return src;
}

describe('the lazy chunks of the built file', () => {
  it('is pure ASCII, so Node reads it as a one-byte string, and ends with one comment per chunk', () => {
    const bytes = readFileSync(BUNDLE);
    expect(bytes.findIndex((b) => b > 0x7f)).toBe(-1);
    const chunkLines = bytes.toString('latin1').split('\n').filter((l) => /^\/\/chunk \d+ "/.test(l));
    // 0-4 the lazy chunks, 5 the main program (scripts/build.mjs, MAIN).
    expect(chunkLines.map((l) => l.split(' ')[1])).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  it('`seed` loads its chunk from a copy of the file', async () => {
    const { dir, command: [program, ...lead] } = copyOfBundle();
    const r = await execa(program, [...lead, 'seed', seedTree(dir), join(dir, 'dest'), '--json'], { cwd: dir, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'seeded', files: 2, linked: 2, bytes: 5 });
  });

  it('the seeding engine\'s worker threads (created from source text) run from a copy of the file', async () => {
    const { dir, command: [program, ...lead] } = copyOfBundle();
    const env = { ...process.env, SEEDWRAP_SEED_STRATEGY: 'threads' };
    const r = await execa(program, [...lead, 'seed', seedTree(dir), join(dir, 'dest'), '--json'], { cwd: dir, env, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ strategy: 'threads', outcome: 'seeded', files: 2, linked: 2 });
  });

  it('the worker loads its chunk, and the seeding engine nested in it, from a copy of the file', async () => {
    const { dir, command: [program, ...lead] } = copyOfBundle();
    const dest = join(dir, 'incr');
    const request = { arguments: ['--copy-seed', seedTree(dir), dest, '--seed-min-mb', '0', '--', '/bin/true'], inputs: [], requestId: 0 };
    const r = await execa(program, [...lead, '--persistent_worker'], { cwd: dir, input: `${JSON.stringify(request)}\n`, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 0 });
    expect(readdirSync(dest).sort()).toEqual(['b', 'sub']);
  });
});
