/**
 * src/fsSafe.ts against real symlinks, FIFOs, sockets, devices and hard
 * links, each in this test's own temp directory. The store's and seeding's
 * behaviour on the same entries is tested end to end in upkeep.test.ts and
 * the property test; this pins the primitives themselves.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, linkSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExclusive, MAX_DEPTH, openFile, removeTree, withDir } from '../../src/fsSafe.ts';
import { tempDir } from '../helpers/tmp.ts';
import { snapshot } from './snapshot.ts';

const isRoot = process.getuid?.() === 0;

function outside(base: string): string {
  const dir = join(base, 'outside');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'sub', 'f'), 'keep me\n');
  writeFileSync(join(dir, 'g'), 'and me\n');
  return dir;
}

describe('fsSafe', () => {
  it('removeTree removes links, FIFOs, sockets, devices and hard links as entries and never follows one', async () => {
    const base = tempDir();
    const out = outside(base);
    const before = snapshot(out);
    const tree = join(base, 'tree');
    mkdirSync(join(tree, 'a', 'b'), { recursive: true });
    symlinkSync(out, join(tree, 'link-dir'));
    symlinkSync(join(out, 'g'), join(tree, 'a', 'link-file'));
    symlinkSync('loop', join(tree, 'a', 'b', 'loop'));
    linkSync(join(out, 'g'), join(tree, 'a', 'hard'));
    execFileSync('mkfifo', [join(tree, 'a', 'fifo')]);
    if (isRoot) execFileSync('mknod', [join(tree, 'a', 'b', 'null-dev'), 'c', '1', '3']);
    const server = createServer();
    await new Promise<void>((r) => server.listen(join(tree, 'a', 'sock'), r));
    server.close();
    const r = withDir(base, (dir) => removeTree(dir, 'tree'));
    expect(r).toEqual({ removed: true, left: [] });
    expect(existsSync(tree)).toBe(false);
    expect(snapshot(out)).toEqual(before);
  });

  it(`removeTree leaves a chain deeper than ${MAX_DEPTH} levels in place and says so`, () => {
    const base = tempDir();
    let p = join(base, 'deep');
    for (let i = 0; i <= MAX_DEPTH + 2; i++) p = join(p, 'd');
    mkdirSync(p, { recursive: true });
    const r = withDir(base, (dir) => removeTree(dir, 'deep'))!;
    expect(r.removed).toBe(false);
    expect(r.left).toEqual([expect.stringMatching(new RegExp(`more than ${MAX_DEPTH} levels deep, left in place$`))]);
    expect(existsSync(join(base, 'deep'))).toBe(true);
  });

  it('openFile opens a regular file, creates a missing one, and refuses a symlink, a FIFO (at once) and a device', () => {
    const base = tempDir();
    writeFileSync(join(base, 'file'), 'x');
    symlinkSync(join(base, 'file'), join(base, 'link'));
    execFileSync('mkfifo', [join(base, 'fifo')]);
    const file = openFile(join(base, 'file'), constants.O_RDONLY);
    expect('fd' in file && file.st.size).toBe(1);
    if ('fd' in file) closeSync(file.fd);
    const made = openFile(join(base, 'new'), constants.O_WRONLY | constants.O_CREAT);
    expect('fd' in made).toBe(true);
    if ('fd' in made) closeSync(made.fd);
    expect(openFile(join(base, 'link'), constants.O_WRONLY | constants.O_CREAT)).toEqual({ refused: 'symlink' });
    for (const flags of [constants.O_RDONLY, constants.O_WRONLY, constants.O_RDONLY | constants.O_CREAT]) expect(openFile(join(base, 'fifo'), flags)).toEqual({ refused: 'FIFO' });
    if (isRoot) {
      execFileSync('mknod', [join(base, 'dev'), 'c', '1', '3']);
      expect(openFile(join(base, 'dev'), constants.O_RDONLY)).toEqual({ refused: 'device' });
    }
    expect(readdirSync(base).sort()).toEqual(isRoot ? ['dev', 'fifo', 'file', 'link', 'new'] : ['fifo', 'file', 'link', 'new']);
  });

  it('createExclusive never writes through a planted symlink', () => {
    const base = tempDir();
    const out = outside(base);
    const before = snapshot(out);
    symlinkSync(join(out, 'g'), join(base, 'marker'));
    expect(createExclusive(join(base, 'marker'), 'seedwrap')).toBe(false);
    expect(createExclusive(join(base, 'fresh'), 'seedwrap')).toBe(true);
    expect(snapshot(out)).toEqual(before);
  });
});
