/** `seedwrap seed`: the standalone command, called in-process with real files. */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/io.ts';
import { seedCommand } from '../../src/seed/command.ts';
import { linkedTree, removeTree, tempDir } from './helpers.ts';

let root: string;
let src: string;
beforeAll(() => {
  root = tempDir('command');
  src = join(root, 'src');
  mkdirSync(join(src, 'a'), { recursive: true });
  writeFileSync(join(src, 'a/one'), 'one');
  writeFileSync(join(src, 'two'), Buffer.alloc(3 * 1048576));
});
afterAll(() => removeTree(root));

async function run(argv: string[], tty = false): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  const io: Io = { cwd: root, env: {}, stdout, stderr, stdin: 'ignore' };
  const code = await seedCommand(argv, io);
  return { code, out, err };
}

describe('seedwrap seed', () => {
  it('--json reports linked, copied, skipped, bytes, ms and strategy', async () => {
    const r = await run(['src', 'dest-json', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ outcome: 'seeded', layout: 'mirror', files: 2, linked: 2, copied: 0, skipped: [], bytes: 3 * 1048576 + 3, strategy: 'sync', dryRun: false });
    expect(typeof report.ms).toBe('number');
    expect(readdirSync(join(root, 'dest-json')).sort()).toEqual(['a', 'two']);
  });

  it('prints one summary line otherwise', async () => {
    const r = await run(['src', 'dest-line']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^seeded 2 files \(2 linked, 0 copied\), 3\.0 MiB in [\d.]+ ms \[sync, mirror layout\]\n$/);
    expect(r.err).toBe('');
  });

  it('--dry-run plans without writing, and never reports "seeded"', async () => {
    const r = await run(['src', 'dest-dry', '--dry-run', '--json']);
    expect(JSON.parse(r.out)).toMatchObject({ outcome: 'would-seed', files: 2, linked: 0, dryRun: true, bytes: 3 * 1048576 + 3 });
    expect((await run(['src', 'dest-dry', '--dry-run'])).out).toMatch(/^would seed 2 files \(3\.0 MiB\), mirror layout\n$/);
    expect(existsSync(join(root, 'dest-dry'))).toBe(false);
  });

  it('--min-mb skips a smaller seed', async () => {
    const r = await run(['src', 'dest-min', '--min-mb', '4']);
    expect(r.out).toBe('not seeded: 2 files, 3.0 MiB, below the --min-mb threshold\n');
    expect(readdirSync(join(root, 'dest-min'))).toEqual([]);
  });

  it.each([['-1'], ['1.5'], [''], ['huge'], ['99999999999999999999'], ['2000000']])('rejects --min-mb %j in one line, exit 2', async (value) => {
    const r = await run(['src', 'dest-bad', '--min-mb', value]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^seedwrap seed: --min-mb: .+\n$/);
    expect(r.err).toContain(JSON.stringify(value));
    expect(existsSync(join(root, 'dest-bad'))).toBe(false);
  });

  it('rejects a missing argument and an unknown flag with exit 2', async () => {
    expect((await run(['src'])).code).toBe(2);
    const r = await run(['src', 'x', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^seedwrap seed: unknown option '--bogus'/);
  });

  it('a seeding failure is exit 1 with one line naming the path', async () => {
    mkdirSync(join(root, 'full'));
    writeFileSync(join(root, 'full/x'), 'x');
    const r = await run(['src', 'full']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`seedwrap seed: seed destination ${join(root, 'full')} is not empty\n`);
  });

  it('draws a progress bar on a TTY for a large tree, then clears it', async () => {
    linkedTree(join(root, 'large'), 50, 60); // 3,000 files
    const r = await run([join(root, 'large/tree'), 'dest-tty'], true);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/\rseeding \[#*-*\] \d+\/3000 files/);
    expect(r.err.endsWith('\r\x1b[K')).toBe(true);
    expect(r.out).toMatch(/^seeded 3000 files/);
  });
});
