import { accessSync, constants, mkdirSync, readlinkSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, isSystemError } from '../errors.ts';
import { closeDir, entryPath, kindOf, listEntries, lstatOrNone, openSubdir, unlinkEntry, withDir, type DirHandle } from '../fsSafe.ts';
import { ownership, type Ownership } from './owner.ts';

/**
 * Makes the store and the partition, each missing directory by itself (a
 * recursive mkdir reports ENOENT where a read-only mount refused with EROFS),
 * checks the store can be written and has room, and tells whether seedwrap
 * manages it. A partition that is a symlink, FIFO or anything but a real
 * directory is removed as an entry in a managed store, and makes any other
 * store unusable: rustc would write through it.
 */
export function setUpStore(root: string, partition: string, crateName: string, minFreeBytes: number, note: (line: string) => void, pinned?: DirHandle): { unusable: string } | { ownership: Ownership } {
  try {
    let real: string;
    if (pinned) {
      // Pinned already (pinStore): every step goes through its descriptor, never the path again.
      real = `/proc/self/fd/${pinned.fd}`;
    } else {
      const link = linkInSharedDir(root);
      if (link) return { unusable: `${link} is a symbolic link in a directory anyone can write (another user, or a sandboxed action where that directory is writable, may have put it there); name the real directory instead` };
      makeDirs(root);
      real = realpathSync.native(root);
    }
    accessSync(real, constants.W_OK);
    const fs = statfsSync(real);
    const free = fs.bavail * fs.bsize;
    if (free < minFreeBytes) return { unusable: `only ${(free / 1048576).toFixed(1)} MiB free (SEEDWRAP_STORE_MIN_FREE_MB=${minFreeBytes / 1048576})` };
    const inDir = <T>(use: (dir: DirHandle) => T): T | undefined => (pinned ? use(pinned) : withDir(real, use));
    return inDir((dir) => {
      const owner = ownership(dir);
      const part = lstatOrNone(entryPath(dir, partition));
      if (part && !part.isDirectory()) {
        if (!owner.managed) return { unusable: `${root}/${partition} is a ${kindOf(part)}, not a directory` };
        note(`${root}/${partition} was a ${kindOf(part)}; removed`);
        unlinkEntry(dir, partition);
      }
      makeDir(entryPath(dir, partition), `${root}/${partition}`);
      const partDir = owner.managed ? openSubdir(dir, partition) : undefined;
      if (partDir) {
        try {
          clearCrateNames(partDir, crateName, note);
        } finally {
          closeDir(partDir);
        }
      }
      return { ownership: owner };
    }) ?? { unusable: `${root} changed while being opened` };
  } catch (err) {
    return { unusable: `cannot be written (${describe(err)})` };
  }
}

/**
 * rustc makes `<crate>-<id>` with create_dir_all, which follows a symlink
 * there (and fails on a FIFO or file, failing the compile): in a managed
 * store, any such entry of this crate that is not a real directory is removed
 * as an entry first.
 */
function clearCrateNames(part: DirHandle, crateName: string, note: (line: string) => void): void {
  for (const e of listEntries(part)) {
    if (e.kind === 'dir' || !e.name.startsWith(`${crateName}-`)) continue;
    note(`${part.path}/${e.name} was a ${e.kind}; removed`);
    unlinkEntry(part, e.name);
  }
}

/**
 * The first symlink on `path` that lies in a directory anyone can write
 * (mode o+w: /tmp, /var/tmp). Whoever made it chooses where the store's
 * set-up and rustc write; fs.protected_symlinks does not stop a link made by
 * the same user (a root action in a Bazel 4 sandbox, whose /tmp is the real
 * one). Links elsewhere on the path (the user's own) are followed.
 */
function linkInSharedDir(path: string): string | undefined {
  // Walked by hand, every link's target too: realpath would resolve a chain
  // (the user's link to /tmp/x, /tmp/x a planted link) without looking.
  let dir = '/';
  const rest = path.split('/').filter((n) => n !== '');
  for (let hops = 0; rest.length > 0; ) {
    const name = rest.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      dir = dirname(dir);
      continue;
    }
    const next = join(dir, name);
    const st = lstatOrNone(next);
    if (!st) return undefined;
    if (!st.isSymbolicLink()) {
      dir = next;
      continue;
    }
    if ((statSync(dir).mode & 0o002) !== 0) return next;
    if (++hops > 40) return undefined; // a loop: makeDirs reports ELOOP
    const target = readlinkSync(next);
    if (target.startsWith('/')) dir = '/';
    rest.unshift(...target.split('/').filter((n) => n !== ''));
  }
  return undefined;
}

/** `mkdir -p` that reports the first real error (EROFS, EACCES, ENOTDIR) with the path it hit. */
function makeDirs(dir: string): void {
  if (lstatOrNone(dir)?.isDirectory() || statSyncOrNone(dir)?.isDirectory()) return;
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  makeDir(dir, dir);
}

function makeDir(path: string, shownAs: string): void {
  try {
    mkdirSync(path);
  } catch (err) {
    if (isSystemError(err, 'EEXIST')) return;
    if (isSystemError(err)) throw Object.assign(err, { path: shownAs });
    throw err;
  }
}

function statSyncOrNone(path: string) {
  return statSync(path, { throwIfNoEntry: false });
}

