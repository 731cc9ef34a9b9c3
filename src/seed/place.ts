/**
 * Per-file placement: how one file of the seed lands in the staging tree.
 *
 * `createPlacer` (files, and the directories of the thread strategy) is self-contained on purpose: it references nothing outside
 * its own body and receives `node:fs` as a parameter, because the worker-thread
 * strategy ships its source text (`createPlacer.toString()`) to a worker made
 * with `{ eval: true }` (the distributed bundle is one CommonJS file, so there
 * is no separate worker file to point at). Main thread and workers therefore
 * run the same code. Keep it free of imports and module-level helpers.
 */
import type * as nodeFs from 'node:fs';

/** What a plan asks for one file. Numbers, because they cross to workers. */
export const KIND_LINK = 0; // hard link; copy (reflink first) if the platform refuses
export const KIND_OWN = 1; // an inode of its own, writable (rustc's `*.o` work products)
export const KIND_LOCK = 2; // a fresh, empty, writable rustc session lock file

export interface Tally {
  linked: number;
  copied: number;
}

export type Place = (src: string, dst: string, kind: number, tally: Tally) => void;
export type MakeDir = (root: string, rel: string) => void;

export interface Placer {
  /** Places one file of the plan. */
  place: Place;
  /**
   * Makes the directory `rel` under `root` and any missing parent below
   * `root`: with threads each chunk's claimer makes its own directory, and the
   * other thread may make it, or a parent, first (EEXIST is fine). Unlike
   * `mkdir -p` it never recreates `root` itself: if the staging directory
   * vanished, the seed fails instead of publishing what is left of it.
   * Directories start owner-only; their final modes are applied once the tree
   * is complete.
   */
  makeDir: MakeDir;
}

export function createPlacer(fs: typeof nodeFs): Placer {
  // Every file is created in a staging directory we made ourselves, and with
  // "fail if it exists" semantics (link(2), COPYFILE_EXCL, O_EXCL): nothing is
  // ever written through a symlink that might sit at the destination.
  const COPY_FLAGS = fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE;
  // A copy's source is pinned by a descriptor opened without following a final
  // symlink, checked to be a regular file, and copied through /proc/self/fd:
  // a seed file swapped for a symlink, FIFO or device since the walk is never
  // followed or opened (a FIFO's open would block the seed for ever).
  const PIN = process.platform === 'linux' ? pinWithoutOpening() : pinOpenedNonBlocking();
  const VIA_PROC = fs.existsSync('/proc/self/fd');

  /** Linux: O_PATH (0o10000000, absent from fs.constants) names the file without opening it, so no device's open runs. */
  function pinWithoutOpening(): number {
    return 0o10000000 | fs.constants.O_NOFOLLOW;
  }

  /** Platforms without O_PATH (macOS): a non-blocking read-only open, which returns at once even for a FIFO. */
  function pinOpenedNonBlocking(): number {
    return fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
  }

  function errnoOf(err: unknown): string {
    // isSystemError (src/errors.ts) cannot be used here: this body runs in workers.
    if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
    return '';
  }

  /**
   * A byte copy with an inode of its own; FICLONE tries a reflink first (btrfs,
   * XFS) and silently copies elsewhere. Never more permissive than the source:
   * copyfile gives DEST the source's mode, set-user-ID bit included (and as
   * root the copy is root's), so only its permission bits are kept, plus `add`.
   */
  function copyOwn(src: string, dst: string, tally: Tally, add = 0): void {
    const fd = fs.openSync(src, PIN);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new Error(`seed file ${src} was replaced by something other than a regular file while seeding`);
      fs.copyFileSync(VIA_PROC ? `/proc/self/fd/${fd}` : copyByPathWithoutProc(src), dst, COPY_FLAGS);
      const want = (st.mode & 0o777) | add;
      // copyfile already gave DEST the source's whole mode: chmod only to drop set-ID/sticky bits or add `add`.
      if ((st.mode & 0o7777) !== want) fs.chmodSync(dst, want);
    } finally {
      fs.closeSync(fd);
    }
    tally.copied++;
  }

  /** A sandbox without /proc mounted: copy by path; a swap between the check and the copy is then not caught (docs/seeding.md). */
  function copyByPathWithoutProc(src: string): string {
    return src;
  }

  /** EXDEV: DEST is on another filesystem (tmpfs such as /dev/shm, a sandbox's bind mount, a container volume). */
  function copyAcrossDevices(src: string, dst: string, tally: Tally): void {
    copyOwn(src, dst, tally);
  }

  /** EMLINK: the inode has the most links the filesystem allows (ext4 refuses the 65,000th). */
  function copyPastLinkLimit(src: string, dst: string, tally: Tally): void {
    copyOwn(src, dst, tally);
  }

  /** EPERM: the filesystem has no hard links (vfat, some FUSE mounts) or fs.protected_hardlinks forbids linking another user's file. */
  function copyWhereLinkForbidden(src: string, dst: string, tally: Tally): void {
    copyOwn(src, dst, tally);
  }

  /**
   * ENOENT although the source exists: OverlayFS (Docker's storage driver)
   * reports ENOENT instead of EXDEV when linking across layers. If the source
   * really vanished, the copy fails with ENOENT too and the seed fails.
   */
  function copyAcrossOverlayLayers(src: string, dst: string, tally: Tally): void {
    copyOwn(src, dst, tally);
  }

  const fallbacks = new Map([
    ['EXDEV', copyAcrossDevices],
    ['EMLINK', copyPastLinkLimit],
    ['EPERM', copyWhereLinkForbidden],
    ['ENOENT', copyAcrossOverlayLayers],
  ]);

  /** One file's refusal falls back for that file only; the next file tries a link again. */
  function linkOrFallback(src: string, dst: string, tally: Tally): void {
    try {
      fs.linkSync(src, dst);
      tally.linked++;
    } catch (err) {
      const fallback = fallbacks.get(errnoOf(err));
      if (fallback === undefined) throw err;
      fallback(src, dst, tally);
    }
  }

  /**
   * rustc refuses to reuse a work product whose mode bits are read-only
   * ("output file ... is not writeable"), even as root: owner read and write
   * are added; group and other get only what the source gives them.
   */
  function ownWritable(src: string, dst: string, tally: Tally): void {
    copyOwn(src, dst, tally, 0o600);
  }

  /** rustc silently ignores a session whose lock file is missing or read-only; the umask must not decide the mode. */
  function freshLock(dst: string): void {
    const fd = fs.openSync(dst, 'wx', 0o644);
    try {
      fs.fchmodSync(fd, 0o644);
    } finally {
      fs.closeSync(fd);
    }
  }

  function place(src: string, dst: string, kind: number, tally: Tally): void {
    // No stat here: a stat per file costs ~25% of a hard-link seed (docs/seeding.md); sizes come from threshold.ts.
    if (kind === 2) return freshLock(dst);
    if (kind === 1) return ownWritable(src, dst, tally);
    linkOrFallback(src, dst, tally);
  }

  function mkdirOnce(path: string): void {
    try {
      fs.mkdirSync(path, 0o700);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
  }

  function makeDir(root: string, rel: string): void {
    try {
      fs.mkdirSync(`${root}/${rel}`, 0o700);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'EEXIST') return;
      const slash = rel.lastIndexOf('/');
      if (code !== 'ENOENT' || slash < 0) throw err; // at the top, ENOENT means root itself is gone
      makeDir(root, rel.slice(0, slash));
      mkdirOnce(`${root}/${rel}`);
    }
  }

  return { place, makeDir };
}
