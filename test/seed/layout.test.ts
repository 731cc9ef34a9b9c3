/** Which files a seed contains: rustc layout rules, mirrored trees, symlinks, cycles, special files. */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeedwrapError } from '../../src/errors.ts';
import { seed } from '../../src/seed/index.ts';
import { removeTree, snapshot, tempDir } from './helpers.ts';

const roots: string[] = [];
afterAll(() => roots.forEach(removeTree));
function fresh(name: string): string {
  const dir = tempDir(name);
  roots.push(dir);
  return dir;
}
function put(path: string, text: string, mode = 0o644): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text, { mode });
}

/** rustc's layout with an older session, a newer one and an unfinished one. */
function fakeIncr(root: string): string {
  const crate = join(root, 'incr', 'mycrate-1x2y3z');
  put(join(crate, 's-hocaaaaaaa-0aaaaaa-old0svh/dep-graph.bin'), 'old');
  put(join(crate, 's-hocaaaaaaa-0aaaaaa.lock'), '');
  put(join(crate, 's-hocbbbbbbb-0bbbbbb-new0svh/dep-graph.bin'), 'new', 0o444);
  put(join(crate, 's-hocbbbbbbb-0bbbbbb-new0svh/query-cache.bin'), 'q', 0o444);
  put(join(crate, 's-hocbbbbbbb-0bbbbbb-new0svh/abc.o'), 'obj', 0o444);
  put(join(crate, 's-hocbbbbbbb-0bbbbbb.lock'), '', 0o444);
  put(join(crate, 's-hoccccccccc-0cccccc-working/dep-graph.bin'), 'partial');
  put(join(crate, 's-hoccccccccc-0cccccc.lock'), '');
  return join(root, 'incr');
}

describe('rustc layout', () => {
  it('seeds only the newest finished session, with a fresh lock and writable dirs', async () => {
    const root = fresh('layout');
    const src = fakeIncr(root);
    const dest = join(root, 'dest');
    const report = await seed(src, dest, { minBytes: 0, writableWorkProducts: true });
    expect(report).toMatchObject({ outcome: 'seeded', layout: 'rustc', files: 4, linked: 2, copied: 1 });
    expect(report.skipped.map((s) => [s.path.split('/').pop(), s.reason]).sort()).toEqual([
      ['s-hocaaaaaaa-0aaaaaa-old0svh', 'older session'],
      ['s-hocaaaaaaa-0aaaaaa.lock', 'older session'],
      ['s-hoccccccccc-0cccccc-working', 'unfinished session'],
      ['s-hoccccccccc-0cccccc.lock', 'unfinished session'],
    ]);
    const crate = join(dest, 'mycrate-1x2y3z');
    expect(readdirSync(crate).sort()).toEqual(['s-hocbbbbbbb-0bbbbbb-new0svh', 's-hocbbbbbbb-0bbbbbb.lock']);
    const lock = statSync(join(crate, 's-hocbbbbbbb-0bbbbbb.lock'));
    expect([lock.mode & 0o777, lock.size, lock.nlink]).toEqual([0o644, 0, 1]);
    for (const dir of [dest, crate, join(crate, 's-hocbbbbbbb-0bbbbbb-new0svh')]) expect(statSync(dir).mode & 0o777).toBe(0o755);
    const obj = statSync(join(crate, 's-hocbbbbbbb-0bbbbbb-new0svh/abc.o'));
    expect([obj.mode & 0o777, obj.nlink]).toEqual([0o644, 1]);
    const graph = join(crate, 's-hocbbbbbbb-0bbbbbb-new0svh/dep-graph.bin');
    expect(statSync(graph).ino).toBe(statSync(join(src, 'mycrate-1x2y3z/s-hocbbbbbbb-0bbbbbb-new0svh/dep-graph.bin')).ino);
  });

  it('links work products too when rustc will not write into DEST', async () => {
    const root = fresh('layout-ro');
    const report = await seed(fakeIncr(root), join(root, 'dest'), { minBytes: 0, writableWorkProducts: false });
    expect(report).toMatchObject({ linked: 3, copied: 0 });
  });
});

describe('mirrored trees', () => {
  it('mirrors any other tree 1:1, following symlinks to files and directories within it (and no further)', async () => {
    const root = fresh('mirror');
    const src = join(root, 'src');
    put(join(src, 'a/b/c.txt'), 'c', 0o600);
    put(join(src, 'top.txt'), 'top', 0o755);
    put(join(src, 'in/file.txt'), 'inside');
    put(join(src, 'in/dir/inner.txt'), 'inner');
    put(join(root, 'outside/file.txt'), 'outside');
    symlinkSync(join(src, 'in/file.txt'), join(src, 'link.txt'));
    symlinkSync('in/dir', join(src, 'linkdir'));
    symlinkSync(join(root, 'outside/file.txt'), join(src, 'out.txt'));
    const dest = join(root, 'dest');
    const report = await seed(src, dest, { minBytes: 0, writableWorkProducts: false });
    expect(report).toMatchObject({ outcome: 'seeded', layout: 'mirror', files: 6, linked: 6, copied: 0 });
    expect(report.skipped).toEqual([{ path: join(src, 'out.txt'), reason: `symlink to ${join(root, 'outside/file.txt')}, outside the seed and the execroot's output tree` }]);
    const snap = snapshot(dest);
    expect([...snap.keys()].sort()).toEqual(['a', 'a/b', 'a/b/c.txt', 'in', 'in/dir', 'in/dir/inner.txt', 'in/file.txt', 'link.txt', 'linkdir', 'linkdir/inner.txt', 'top.txt']);
    expect(snap.get('link.txt')).toMatchObject({ type: 'file', ino: statSync(join(src, 'in/file.txt')).ino });
    expect(snap.get('linkdir')?.type).toBe('dir');
    expect(snap.get('a/b/c.txt')?.mode).toBe(0o600);
    expect(snap.get('top.txt')?.mode).toBe(0o755);
  });

  it('skips and reports FIFOs, sockets, dangling symlinks and directory cycles', async () => {
    const root = fresh('special');
    const src = join(root, 'src');
    put(join(src, 'sub/real.txt'), 'real');
    execFileSync('mkfifo', [join(src, 'fifo')]);
    const server = createServer();
    await new Promise<void>((r) => server.listen(join(src, 'sock'), r));
    symlinkSync(join(root, 'nowhere'), join(src, 'dangling'));
    symlinkSync(src, join(src, 'sub/loop'));
    try {
      const report = await seed(src, join(root, 'dest'), { minBytes: 0, writableWorkProducts: false });
      expect(report.files).toBe(1);
      expect(report.skipped.map((s) => [s.path.slice(src.length + 1), s.reason]).sort()).toEqual([
        ['dangling', 'dangling symlink'],
        ['fifo', 'FIFO'],
        ['sock', 'socket'],
        ['sub/loop', 'directory cycle'],
      ]);
      expect(existsSync(join(root, 'dest/fifo'))).toBe(false);
    } finally {
      server.close();
    }
  });
});

describe('DEST', () => {
  it('is created when missing, and an empty one is filled', async () => {
    const root = fresh('dest');
    put(join(root, 'src/f'), 'f');
    mkdirSync(join(root, 'empty'));
    await seed(join(root, 'src'), join(root, 'empty'), { minBytes: 0, writableWorkProducts: false });
    await seed(join(root, 'src'), join(root, 'deep/missing'), { minBytes: 0, writableWorkProducts: false });
    expect(readFileSync(join(root, 'empty/f'), 'utf8')).toBe('f');
    expect(readFileSync(join(root, 'deep/missing/f'), 'utf8')).toBe('f');
  });

  it('refuses a non-empty DEST and a symlinked DEST without touching either', async () => {
    const root = fresh('dest-bad');
    put(join(root, 'src/f'), 'f');
    put(join(root, 'full/keep'), 'keep');
    mkdirSync(join(root, 'target'));
    symlinkSync(join(root, 'target'), join(root, 'via-link'));
    const opts = { minBytes: 0, writableWorkProducts: false };
    await expect(seed(join(root, 'src'), join(root, 'full'), opts)).rejects.toThrow(/full is not empty/);
    await expect(seed(join(root, 'src'), join(root, 'via-link'), opts)).rejects.toThrow(SeedwrapError);
    expect(readdirSync(join(root, 'full'))).toEqual(['keep']);
    expect(readdirSync(join(root, 'target'))).toEqual([]);
    expect(lstatSync(join(root, 'via-link')).isSymbolicLink()).toBe(true);
    expect(readdirSync(root).filter((n) => n.includes('staging'))).toEqual([]);
  });

  it('a missing source is a cold start: empty DEST, no error', async () => {
    const root = fresh('missing');
    const report = await seed(join(root, 'nope'), join(root, 'dest'), { minBytes: 0, writableWorkProducts: true });
    expect(report.outcome).toBe('missing-source');
    expect(readdirSync(join(root, 'dest'))).toEqual([]);
  });
});
