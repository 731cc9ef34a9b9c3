/**
 * A real EMLINK: ext4 refuses the 65,000th hard link to one inode. The test
 * makes that many links (about a second), then seeds a tree holding the file:
 * that one file is copied, its neighbours are still linked.
 */
import { linkSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSystemError } from '../../src/errors.ts';
import { seed } from '../../src/seed/index.ts';
import { fsType, removeTree, tempDir } from './helpers.ts';

const base = ['/tmp', '/work'].find((p) => fsType(p) === 'ext2/ext3') ?? '/tmp';
let root: string;
let links = 0;

beforeAll(() => {
  root = tempDir('emlink', base);
  const src = join(root, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'full.bin'), 'full');
  writeFileSync(join(src, 'sub/neighbour.bin'), 'neighbour');
  const farm = join(root, 'farm');
  mkdirSync(farm);
  for (;;) {
    try {
      linkSync(join(src, 'full.bin'), join(farm, String(links)));
      links++;
    } catch (err) {
      if (isSystemError(err, 'EMLINK')) break;
      throw err;
    }
  }
}, 120_000);
afterAll(() => removeTree(root));

describe.skipIf(fsType(base) !== 'ext2/ext3')('EMLINK on ext4', () => {
  it('copies the one file at its link limit and links the rest', async () => {
    const src = join(root, 'src');
    const nlink = statSync(join(src, 'full.bin')).nlink;
    expect(nlink).toBe(links + 1);
    expect(nlink).toBeGreaterThanOrEqual(65_000);
    const dest = join(root, 'dest');
    const report = await seed(src, dest, { minBytes: 0, writableWorkProducts: false });
    expect(report).toMatchObject({ outcome: 'seeded', files: 2, linked: 1, copied: 1 });
    expect(statSync(join(dest, 'full.bin')).nlink).toBe(1);
    expect(statSync(join(dest, 'sub/neighbour.bin')).ino).toBe(statSync(join(src, 'sub/neighbour.bin')).ino);
    rmSync(dest, { recursive: true });
    expect(statSync(join(src, 'full.bin')).nlink).toBe(nlink);
    expect(readdirSync(root).sort()).toEqual(['farm', 'src']);
  });
});
