/**
 * Real disk faults under the built bundle, no mocks: ENOSPC (a small tmpfs
 * this test mounts; blocks and inodes), EROFS/EPERM (a read-only bind mount,
 * immutable files and directories) and EXDEV (DEST on /dev/shm). Each case
 * runs both front doors, `seedwrap seed` (an error) and the wrapper's
 * `--copy-seed` (a "starting cold" warning, exit 0), and ends with the three
 * checks: the seed is bit-identical (bytes, modes, link counts), DEST is
 * absent/empty/complete, and no staging directory is left.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { FAKE_RUSTC, script } from '../helpers/wrapper.ts';
import {
  BUNDLE,
  canChattr,
  canMount,
  destState,
  expectSeedFailure,
  filesOf,
  fingerprint,
  makeRustcSeed,
  makeSeed,
  mountTmpfs,
  NODE,
  nuke,
  onCleanup,
  runSeed,
  scratch,
  staging,
  type Mode,
  umount,
  usage,
} from './helpers.ts';

function tmpfs(dir: string, options: string): string {
  mountTmpfs(dir, options);
  onCleanup(() => umount(dir));
  return dir;
}

const MODES: Mode[] = ['command', 'wrapper'];

describe.skipIf(!canMount)('ENOSPC', () => {
  it.each(MODES)('%s: DEST on a 2 MiB tmpfs, a 4 MiB seed: one clear line, DEST empty, the tmpfs emptied, the seed untouched', async (mode) => {
    const root = scratch('enospc');
    const src = makeSeed(join(root, 'seed'), 4, 10, 100_000);
    const before = fingerprint(src);
    const small = tmpfs(join(root, 'small'), 'size=2m');
    const dest = join(small, 'dest');
    const r = await runSeed(mode, src, dest);
    expectSeedFailure(mode, r, /ENOSPC/);
    expect(fingerprint(src)).toEqual(before);
    expect(destState(dest, filesOf(before))).toMatch(/absent|empty/);
    expect(staging(dest)).toEqual([]);
    expect(usage(small).bytes).toBeLessThan(64 * 1024);
  });

  it.each(MODES)('%s: inodes exhausted on the DEST filesystem (nr_inodes=40, 200 files)', async (mode) => {
    const root = scratch('enospc-inodes');
    const src = makeSeed(join(root, 'seed'), 4, 50, 100);
    const before = fingerprint(src);
    const small = tmpfs(join(root, 'small'), 'size=8m,nr_inodes=40');
    const dest = join(small, 'dest');
    const r = await runSeed(mode, src, dest);
    expectSeedFailure(mode, r, /ENOSPC/);
    expect(fingerprint(src)).toEqual(before);
    expect(destState(dest, filesOf(before))).toMatch(/absent|empty/);
    expect(staging(dest)).toEqual([]);
    expect(usage(small).inodes).toBeLessThanOrEqual(3); // root, dest, lost nothing
  });

  it.each(MODES)('%s: seed and DEST on one full tmpfs: links fit, the *.o copies do not', async (mode) => {
    const root = scratch('enospc-same');
    const fs = tmpfs(join(root, 'fs'), 'size=4m');
    const { root: src } = makeRustcSeed(join(fs, 'seed'), 12, 120_000); // two sessions: ~2.9 MiB
    const before = fingerprint(src);
    const dest = join(fs, 'dest');
    const r = await runSeed(mode, src, dest);
    expectSeedFailure(mode, r, /ENOSPC/);
    expect(fingerprint(src)).toEqual(before); // link counts too: nothing in staging survived
    expect(readdirSync(fs).sort()).toEqual(['dest', 'seed']);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('wrapper: after ENOSPC the child still runs (cold) and its exit code is the wrapper\'s', async () => {
    const root = scratch('enospc-child');
    const src = makeSeed(join(root, 'seed'), 2, 20, 100_000);
    const small = tmpfs(join(root, 'small'), 'size=1m');
    const dest = join(small, 'dest');
    const r = await execa(
      NODE,
      [BUNDLE, '--copy-seed', src, dest, '--seed-min-mb', '0', '--', NODE, FAKE_RUSTC, script(root, [{ touch: join(root, 'ran') }, { exit: 3 }])],
      { cwd: root, reject: false },
    );
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/^seedwrap: starting cold: --copy-seed .*ENOSPC/);
    expect(lstatSync(join(root, 'ran')).isFile()).toBe(true);
    expect(staging(dest)).toEqual([]);
  });
});

describe.skipIf(!canMount)('EROFS: DEST parent on a read-only bind mount', () => {
  it.each(MODES)('%s', async (mode) => {
    const root = scratch('erofs');
    const src = makeSeed(join(root, 'seed'), 2, 10, 1000);
    const before = fingerprint(src);
    const backing = join(root, 'backing');
    mkdirSync(backing);
    writeFileSync(join(backing, 'existing'), 'x');
    const ro = join(root, 'ro');
    mkdirSync(ro);
    execFileSync('mount', ['--bind', backing, ro]);
    onCleanup(() => umount(ro));
    execFileSync('mount', ['-o', 'remount,bind,ro', ro]);
    const r = await runSeed(mode, src, join(ro, 'dest'));
    expectSeedFailure(mode, r, /EROFS/);
    expect(fingerprint(src)).toEqual(before);
    // A missing DEST parent: Node's recursive mkdir reports ENOENT instead of
    // EROFS on a read-only mount (plain mkdir says EROFS); the path is named.
    const deeper = await runSeed(mode, src, join(ro, 'missing-parent', 'dest'));
    expectSeedFailure(mode, deeper, /EROFS|ENOENT \(.*\/ro\/missing-parent\)/);
    expect(fingerprint(src)).toEqual(before);
    expect(readdirSync(backing)).toEqual(['existing']);
  });
});

describe.skipIf(!canChattr())('EPERM: immutable files and directories (chattr +i)', () => {
  it.each(MODES)('%s: immutable DEST parent: clear failure, nothing created', async (mode) => {
    const root = scratch('eperm-parent');
    const src = makeSeed(join(root, 'seed'), 2, 10, 1000);
    const before = fingerprint(src);
    const parent = join(root, 'parent');
    mkdirSync(parent);
    execFileSync('chattr', ['+i', parent]);
    const r = await runSeed(mode, src, join(parent, 'dest'));
    expectSeedFailure(mode, r, /EPERM/);
    expect(readdirSync(parent)).toEqual([]);
    expect(fingerprint(src)).toEqual(before);
  });

  it.each(MODES)('%s: an immutable empty DEST: the rename fails, the staging tree is removed, the seed\'s link counts are back', async (mode) => {
    const root = scratch('eperm-dest');
    const src = makeSeed(join(root, 'seed'), 3, 30, 500);
    const before = fingerprint(src);
    const parent = join(root, 'parent');
    const dest = join(parent, 'dest');
    mkdirSync(dest, { recursive: true });
    execFileSync('chattr', ['+i', dest]);
    const r = await runSeed(mode, src, dest);
    expectSeedFailure(mode, r, /EPERM/);
    expect(readdirSync(parent)).toEqual(['dest']);
    expect(readdirSync(dest)).toEqual([]);
    expect(fingerprint(src)).toEqual(before);
  });

  it.each(MODES)('%s: an immutable seed file (link(2) gives EPERM) is copied; the seed keeps its bytes, modes and attribute', async (mode) => {
    const root = scratch('eperm-src');
    const src = makeSeed(join(root, 'seed'), 2, 10, 1000);
    const frozen = join(src, 'd1', 'f3.bin');
    execFileSync('chattr', ['+i', frozen]);
    const before = fingerprint(src);
    const dest = join(root, 'out', 'dest');
    const r = await runSeed(mode, src, dest);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/starting cold/);
    expect(destState(dest, filesOf(before))).toBe('complete');
    expect(lstatSync(join(dest, 'd1', 'f3.bin')).ino).not.toBe(lstatSync(frozen).ino);
    expect(lstatSync(join(dest, 'd1', 'f2.bin')).ino).toBe(lstatSync(join(src, 'd1', 'f2.bin')).ino);
    expect(execFileSync('lsattr', ['-d', frozen], { encoding: 'utf8' })).toMatch(/^\S*i\S* /);
    nuke(dest);
    expect(fingerprint(src)).toEqual(before);
  });
});

describe('EXDEV: DEST on /dev/shm (tmpfs), seed on the test filesystem', () => {
  it.each(MODES)('%s: every file copied, DEST complete, modes kept, the seed\'s link counts unchanged', async (mode) => {
    const root = scratch('exdev');
    const src = makeSeed(join(root, 'seed'), 3, 20, 3000);
    const before = fingerprint(src);
    const shm = scratch('exdev', '/dev/shm');
    const dest = join(shm, 'dest');
    const r = await runSeed(mode, src, dest);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(destState(dest, filesOf(before))).toBe('complete');
    for (const [rel, e] of before) {
      if (e.type === 'file') expect(lstatSync(join(dest, rel)).mode & 0o7777, rel).toBe(e.mode);
    }
    expect(fingerprint(src)).toEqual(before);
    expect(staging(dest)).toEqual([]);
  });
});
