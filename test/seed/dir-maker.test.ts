/** `makeDir` (createPlacer): how a thread-strategy claimer makes its chunk's directory in the staging tree. */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlacer } from '../../src/seed/place.ts';
import { removeTree, tempDir } from './helpers.ts';

const { makeDir } = createPlacer(fs);

describe('makeDir', () => {
  it('makes missing parents below root, owner-only, and accepts a directory another thread made first', () => {
    const root = tempDir('dir-maker');
    try {
      makeDir(root, 'a/b/c');
      for (const rel of ['a', 'a/b', 'a/b/c']) expect(fs.statSync(join(root, rel)).mode & 0o777, rel).toBe(0o700);
      makeDir(root, 'a/b/c'); // EEXIST: made by "the other thread"
      makeDir(root, 'a/b/d'); // parent exists
      expect(fs.readdirSync(join(root, 'a/b')).sort()).toEqual(['c', 'd']);
    } finally {
      removeTree(root);
    }
  });

  it('never recreates root itself: a vanished staging directory is an ENOENT error, and nothing is made', () => {
    const parent = tempDir('dir-maker-gone');
    const root = join(parent, 'staging');
    try {
      expect(() => makeDir(root, 'a/b')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(fs.readdirSync(parent)).toEqual([]);
    } finally {
      removeTree(parent);
    }
  });

  it('passes any other error on (a file where a parent should be: ENOTDIR)', () => {
    const root = tempDir('dir-maker-file');
    try {
      fs.writeFileSync(join(root, 'f'), '');
      expect(() => makeDir(root, 'f/x')).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    } finally {
      removeTree(root);
    }
  });
});
