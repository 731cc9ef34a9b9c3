/**
 * File-system primitives that never follow a link and never open what they did
 * not expect, shared by the store's upkeep (src/store/) and the seed engine
 * (src/seed/). Both work in directories that other code can write: under
 * linux-sandbox the store is a `--sandbox_writable_path`, so any build script
 * can plant a symlink, FIFO or device there, and a later action (often root,
 * outside any sandbox) must not act on what it points to.
 *
 * A directory is pinned by a descriptor opened with O_NOFOLLOW|O_DIRECTORY,
 * and everything below it is named through `/proc/self/fd/<fd>/<name>`: the
 * kernel resolves that magic link to the pinned directory itself, so a parent
 * swapped for a symlink after the open is never walked through.
 */
import { closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { isSystemError } from './errors.ts';

export type EntryKind = 'dir' | 'file' | 'symlink' | 'FIFO' | 'socket' | 'device' | 'other';

type Typed = { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean };

export function kindOf(st: Typed): EntryKind {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  return 'other';
}

/** What a special entry is, in the words seeding reports it with (`symlink to a FIFO`). */
export function specialKind(st: Omit<Typed, 'isFile' | 'isDirectory' | 'isSymbolicLink'>): string {
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  return 'not a file or directory';
}

/** lstat, or undefined when nothing is there. */
export function lstatOrNone(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

const VIA_PROC = existsSync('/proc/self/fd');

/** A directory pinned by a descriptor; `path` is only for messages. */
export interface DirHandle {
  fd: number;
  path: string;
}

/** The name of `name` inside the pinned directory. */
export function entryPath(dir: DirHandle, name: string): string {
  return VIA_PROC ? `/proc/self/fd/${dir.fd}/${name}` : pathWithoutProc(dir, name);
}

/**
 * A sandbox or container without /proc mounted: names go by path. Every
 * entry is still lstat-checked and opened with O_NOFOLLOW, but a parent
 * swapped for a symlink between its open and the use of a child is then not
 * caught.
 */
function pathWithoutProc(dir: DirHandle, name: string): string {
  return `${dir.path}/${name}`;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Opens a real directory; undefined when `path` is a symlink, not a directory, or gone. */
export function openDir(path: string, shownAs = path): DirHandle | undefined {
  try {
    return { fd: openSync(path, DIR_FLAGS), path: shownAs };
  } catch (err) {
    if (isSystemError(err, 'ENOENT', 'ENOTDIR', 'ELOOP')) return undefined;
    throw err;
  }
}

export function openSubdir(dir: DirHandle, name: string): DirHandle | undefined {
  return openDir(entryPath(dir, name), `${dir.path}/${name}`);
}

export function closeDir(dir: DirHandle): void {
  closeSync(dir.fd);
}

/**
 * Pins `base/rel`: `base` is opened (a symlink on its own path is followed),
 * then each component of `rel` is made if missing and opened relative to the
 * one before it with O_NOFOLLOW, so a directory on `rel` swapped for a symlink
 * meanwhile is never followed (undefined then, or when one is not a directory).
 * Needs /proc (the names go through /proc/self/fd).
 */
export function pinBelow(base: string, rel: string): DirHandle | undefined {
  if (!VIA_PROC) return undefined;
  let dir: DirHandle | undefined;
  try {
    dir = { fd: openSync(base, DIR_FLAGS & ~constants.O_NOFOLLOW), path: base };
  } catch (err) {
    if (isSystemError(err, 'ENOENT', 'ENOTDIR', 'ELOOP')) return undefined;
    throw err;
  }
  for (const name of rel.split('/').filter((n) => n !== '' && n !== '.')) {
    if (name === '..') {
      closeDir(dir);
      return undefined;
    }
    try {
      mkdirSync(entryPath(dir, name));
    } catch (err) {
      if (!isSystemError(err, 'EEXIST')) {
        closeDir(dir);
        throw Object.assign(err as Error, { path: `${dir.path}/${name}` });
      }
    }
    const next = openSubdir(dir, name);
    closeDir(dir);
    if (!next) return undefined;
    dir = next;
  }
  return dir;
}

/** `use(dir)` on a pinned directory, closed afterwards; undefined when `path` is not a real directory. */
export function withDir<T>(path: string, use: (dir: DirHandle) => T): T | undefined {
  const dir = openDir(path);
  if (!dir) return undefined;
  try {
    return use(dir);
  } finally {
    closeDir(dir);
  }
}

export interface Entry {
  name: string;
  kind: EntryKind;
  st: Stats;
}

/** The entries of a pinned directory, each lstat-ed (never followed); entries gone meanwhile are left out. */
export function listEntries(dir: DirHandle): Entry[] {
  const out: Entry[] = [];
  for (const name of readdirSync(VIA_PROC ? `/proc/self/fd/${dir.fd}` : dir.path)) {
    const st = lstatOrNone(entryPath(dir, name));
    if (st) out.push({ name, kind: kindOf(st), st });
  }
  return out;
}

export type Opened = { fd: number; st: Stats } | { refused: EntryKind };

/** Linux's O_PATH (absent from fs.constants): names a file without opening it, so no device's open runs. */
const O_PATH = 0o10000000;
const PIN_FIRST = process.platform === 'linux' && VIA_PROC;

/**
 * Opens a regular file without following a final symlink and without running
 * anything else's open: a FIFO's open would wait for a writer for ever, and a
 * device's open runs its driver (a watchdog starts counting). On Linux the
 * name is first pinned with O_PATH and checked with fstat; only a regular
 * file is then opened, through /proc/self/fd, which reopens that very inode.
 * With O_CREAT a missing file is created with O_EXCL (never through a link).
 * Anything but a regular file is refused with its kind.
 */
export function openFile(path: string, flags: number, mode = 0o644): Opened {
  if (!PIN_FIRST) return openCheckedAfter(path, flags, mode);
  for (let attempt = 0; attempt < 3; attempt++) {
    let pin: number;
    try {
      pin = openSync(path, O_PATH | constants.O_NOFOLLOW);
    } catch (err) {
      if (!isSystemError(err, 'ENOENT') || (flags & constants.O_CREAT) === 0) throw err;
      try {
        return opened(openSync(path, flags | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode));
      } catch (e) {
        if (isSystemError(e, 'EEXIST')) continue; // made by someone else meanwhile: pin that
        throw e;
      }
    }
    try {
      const st = fstatSync(pin);
      if (!st.isFile()) return { refused: kindOf(st) };
      return opened(openSync(`/proc/self/fd/${pin}`, (flags & ~constants.O_CREAT) | constants.O_NONBLOCK));
    } finally {
      closeSync(pin);
    }
  }
  return { refused: 'other' };
}

function opened(fd: number): Opened {
  return { fd, st: fstatSync(fd) };
}

/**
 * Without O_PATH or /proc (macOS, a sandbox without /proc): a non-blocking
 * O_NOFOLLOW open, the type checked after it. A FIFO still never blocks, but
 * a device's open runs.
 */
function openCheckedAfter(path: string, flags: number, mode: number): Opened {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
  } catch (err) {
    // O_NOFOLLOW on a symlink; O_WRONLY|O_NONBLOCK on a FIFO with no reader.
    if (isSystemError(err, 'ELOOP')) return { refused: 'symlink' };
    if (isSystemError(err, 'ENXIO')) return { refused: 'FIFO' };
    throw err;
  }
  const st = fstatSync(fd);
  if (st.isFile()) return { fd, st };
  closeSync(fd);
  return { refused: kindOf(st) };
}

/**
 * Replaces `path` with `bytes` atomically: a new file beside it (O_EXCL, which
 * never follows a link at its name), then a rename, so a symlink planted at
 * `path` is replaced, never written through, and a reader never sees half a
 * file. On failure the new file is removed and the error thrown.
 */
export function replaceFile(path: string, bytes: Buffer, mode: number): void {
  const temp = `${path}.seedwrap-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  let open = true;
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    open = false;
    closeSync(fd);
    renameSync(temp, path);
  } catch (err) {
    // Never a second close: in the worker the number may already name another request's file.
    if (open) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // renamed, or gone
    }
    throw err;
  }
}

/**
 * Takes a file another process of ours left for one reader (pipelining's
 * messages and results): opened as openFile does (no link followed, no FIFO
 * or device opened), only a regular file owned by this user, read whole,
 * then unlinked so it serves once. Undefined when it is absent, refused, not
 * ours, or cannot be unlinked (another reader took it first).
 */
export function takeOwnFile(path: string): { bytes: Buffer; st: Stats } | undefined {
  let got: Opened;
  try {
    got = openFile(path, constants.O_RDONLY);
  } catch {
    return undefined;
  }
  if ('refused' in got) return undefined;
  try {
    if (process.getuid && got.st.uid !== process.getuid()) return undefined;
    const bytes = readFileSync(got.fd);
    unlinkSync(path);
    return { bytes, st: got.st };
  } catch {
    return undefined;
  } finally {
    closeSync(got.fd);
  }
}

/** Creates a small file exclusively (O_EXCL never follows a link at the name); false if the name is taken. */
export function createExclusive(path: string, content: string, mode = 0o644): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
  } catch (err) {
    if (isSystemError(err, 'EEXIST')) return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Removes one entry that is not a directory (a symlink is removed as a link); gone already is fine. */
export function unlinkEntry(dir: DirHandle, name: string): void {
  try {
    unlinkSync(entryPath(dir, name));
  } catch (err) {
    if (!isSystemError(err, 'ENOENT')) throw err;
  }
}

/**
 * Deeper than this, a tree is not rustc's (a session is two levels deep) and
 * its removal is abandoned: each level holds a descriptor, and a planted chain
 * of a million directories must not exhaust them or the stack.
 */
export const MAX_DEPTH = 64;

/** What a removal left, and why (one debug line's worth). */
export interface Removal {
  removed: boolean;
  left: string[];
}

/**
 * Removes `name` in `dir` and everything below it without following a link:
 * every entry is lstat-ed, directories are opened with O_NOFOLLOW and walked
 * through their descriptor, and symlinks, FIFOs, sockets and devices are
 * unlinked as entries.
 */
export function removeTree(dir: DirHandle, name: string, opts: { maxDepth?: number } = {}, depth = 0, left: string[] = []): Removal {
  const maxDepth = opts.maxDepth ?? MAX_DEPTH;
  const st = lstatOrNone(entryPath(dir, name));
  if (!st) return { removed: true, left };
  if (!st.isDirectory()) {
    unlinkEntry(dir, name);
    return { removed: true, left };
  }
  if (depth >= maxDepth) {
    left.push(`${dir.path}/${name}: more than ${maxDepth} levels deep, left in place`);
    return { removed: false, left };
  }
  const sub = openSubdir(dir, name);
  // Swapped for a link or a file since the lstat: removed as an entry.
  if (!sub) return removeSwapped(dir, name, left);
  let complete = true;
  try {
    for (const e of listEntries(sub)) complete = removeTree(sub, e.name, opts, depth + 1, left).removed && complete;
  } finally {
    closeDir(sub);
  }
  if (!complete) return { removed: false, left };
  try {
    rmdirSync(entryPath(dir, name));
  } catch (err) {
    if (!isSystemError(err, 'ENOENT')) throw err;
  }
  return { removed: true, left };
}

function removeSwapped(dir: DirHandle, name: string, left: string[]): Removal {
  try {
    unlinkEntry(dir, name);
    return { removed: true, left };
  } catch (err) {
    // A directory again by now: someone keeps swapping it; left for a later sweep.
    if (!isSystemError(err, 'EISDIR')) throw err;
    left.push(`${dir.path}/${name}: changed while being removed, left in place`);
    return { removed: false, left };
  }
}

/**
 * Rename-then-remove: `name` is first renamed into `trash` (same filesystem,
 * atomic), so a crash leaves trash, never half a directory; then removed by
 * removeTree. False when `name` was gone already. rename(2) never follows a
 * final symlink: a link is moved and removed as a link.
 */
export function renameAndRemove(dir: DirHandle, name: string, trash: DirHandle, trashName: string): Removal {
  try {
    renameSync(entryPath(dir, name), entryPath(trash, trashName));
  } catch (err) {
    if (isSystemError(err, 'ENOENT')) return { removed: false, left: [] };
    throw err;
  }
  return removeTree(trash, trashName);
}
