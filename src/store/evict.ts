import { closeSync, constants, futimesSync } from 'node:fs';
import { closeDir, entryPath, listEntries, lstatOrNone, openFile, openSubdir, removeTree, renameAndRemove, unlinkEntry, withDir, MAX_DEPTH, type DirHandle } from '../fsSafe.ts';
import { CRATE_DIR, inUse, PARTITION, TRASH, trashName } from './crateDir.ts';
import { takeLock } from './lock.ts';
import { META_DIR } from './metaSeed.ts';
import { LOCK, MARKER, STAMP } from './owner.ts';

/**
 * Least-recently-used eviction, one crate directory (`<partition>/<crate>-<id>/`)
 * at a time, in a store seedwrap manages (owner.ts). A crate directory's mtime
 * is its last use: rustc adds and removes session directories in it on every
 * compile. Only seedwrap's partition names and rustc's crate directory names
 * are candidates, only real directories (a symlink, FIFO, socket or device
 * anywhere is skipped, never followed), and never one whose session a live
 * rustc holds (flock, lock.ts): a compile of any length keeps its crate.
 * `protectMs` only covers the moment between that check and the rename.
 */
export interface EvictOptions {
  maxBytes: number;
  protectMs: number;
  now?: number;
  /** One note per entry skipped or left (collected into the compile's one debug line). */
  note?: (line: string) => void;
  /** Stops between crate directories (the action is being cancelled). */
  signal?: AbortSignal;
}

export interface CrateUse {
  part: string;
  name: string;
  bytes: number;
  lastUsed: number;
}

function crateUses(root: DirHandle, note: (line: string) => void): CrateUse[] {
  const out: CrateUse[] = [];
  for (const p of listEntries(root)) {
    if (p.name.startsWith('.')) continue;
    if (p.kind !== 'dir' || !PARTITION.test(p.name)) {
      note(`${root.path}/${p.name}: a ${p.kind} that is not a seedwrap partition; skipped`);
      continue;
    }
    const part = openSubdir(root, p.name);
    if (!part) continue;
    try {
      for (const c of listEntries(part)) {
        if (c.kind === 'dir' && META_DIR.test(c.name)) continue; // a metadata compile's private copy: sweepMetaSeeds
        if (c.kind !== 'dir' || !CRATE_DIR.test(c.name)) {
          note(`${part.path}/${c.name}: a ${c.kind} that is not rustc's crate directory; skipped`);
          continue;
        }
        out.push({ part: p.name, name: c.name, bytes: treeBytes(part, c.name), lastUsed: c.st.mtimeMs });
      }
    } finally {
      closeDir(part);
    }
  }
  return out;
}

/** Removes least recently used crate directories until the store fits `maxBytes`; returns those removed. */
export function evictCrates(root: DirHandle, opts: EvictOptions): CrateUse[] {
  const now = opts.now ?? Date.now();
  const note = opts.note ?? (() => {});
  const uses = crateUses(root, note).sort((a, b) => a.lastUsed - b.lastUsed);
  let total = uses.reduce((sum, u) => sum + u.bytes, 0);
  const removed: CrateUse[] = [];
  for (const u of uses) {
    if (total <= opts.maxBytes || opts.signal?.aborted) break;
    if (now - u.lastUsed < opts.protectMs) continue;
    if (evictOne(root, u, note)) {
      total -= u.bytes;
      removed.push(u);
    }
  }
  sweepTrash(root, note);
  sweepMetaSeeds(root, now, opts.protectMs, note);
  return removed;
}

/**
 * A metadata compile's private session copy (metaSeed.ts) that its wrapper
 * did not remove (killed with SIGKILL): removed once it is older than
 * `protectMs` and no live rustc holds a session in it.
 */
function sweepMetaSeeds(root: DirHandle, now: number, protectMs: number, note: (line: string) => void): void {
  for (const p of listEntries(root)) {
    if (p.kind !== 'dir' || !PARTITION.test(p.name)) continue;
    const part = openSubdir(root, p.name);
    if (!part) continue;
    try {
      for (const m of listEntries(part)) {
        if (m.kind !== 'dir' || !META_DIR.test(m.name) || now - m.st.mtimeMs < protectMs) continue;
        const seed = openSubdir(part, m.name);
        if (!seed) continue;
        let busy: boolean;
        try {
          busy = listEntries(seed).some((c) => {
            const crate = c.kind === 'dir' ? openSubdir(seed, c.name) : undefined;
            if (!crate) return false;
            try {
              return inUse(crate);
            } finally {
              closeDir(crate);
            }
          });
        } finally {
          closeDir(seed);
        }
        if (!busy) for (const l of removeTree(part, m.name).left) note(l);
      }
    } finally {
      closeDir(part);
    }
  }
}

/** One crate directory, unless a rustc holds one of its sessions or it was used since it was listed. */
function evictOne(root: DirHandle, u: CrateUse, note: (line: string) => void): boolean {
  const part = openSubdir(root, u.part);
  if (!part) return false;
  try {
    const crate = openSubdir(part, u.name);
    if (!crate) return false;
    let busy: boolean;
    try {
      busy = inUse(crate);
    } finally {
      closeDir(crate);
    }
    if (busy) {
      note(`${part.path}/${u.name}: a rustc holds its session; kept`);
      return false;
    }
    if (lstatOrNone(entryPath(part, u.name))?.mtimeMs !== u.lastUsed) return false; // a compile started meanwhile
    const r = renameAndRemove(part, u.name, root, trashName());
    for (const l of r.left) note(l);
    return true;
  } catch (err) {
    // EPERM (immutable), EXDEV/EBUSY (a mount point): this one stays.
    note(`${part.path}/${u.name}: not evicted: ${(err as Error).message}`);
    return false;
  } finally {
    closeDir(part);
  }
}

/** Leftovers of removals a crash or a kill interrupted. */
function sweepTrash(root: DirHandle, note: (line: string) => void): void {
  for (const e of listEntries(root)) {
    if (!TRASH.test(e.name)) continue;
    for (const l of removeTree(root, e.name).left) note(l);
  }
}

/**
 * Eviction after a compile, at most once per `intervalMs` per store (walking
 * the whole store on every action would cost more than it saves) and by one
 * process at a time. Returns what was removed, or undefined if it was not its
 * turn. A stamp or lock that is a symlink, FIFO, socket, device or a hard link
 * (to a file elsewhere) is removed as an entry (never opened through, never
 * written through) and made afresh.
 */
export function maybeEvict(storeRoot: string, opts: EvictOptions & { intervalMs: number }): CrateUse[] | undefined {
  const now = opts.now ?? Date.now();
  const note = opts.note ?? (() => {});
  return withDir(storeRoot, (root) => {
    if (lstatOrNone(entryPath(root, MARKER))?.isFile() !== true) return undefined;
    const stamp = lstatOrNone(entryPath(root, STAMP));
    if (stamp?.isFile() && now - stamp.mtimeMs < opts.intervalMs) return undefined;
    const lock = takeLock(root, LOCK, note);
    if (typeof lock === 'string') {
      note(`eviction skipped: ${storeRoot}/${LOCK} ${lock}`);
      return undefined;
    }
    try {
      try {
        touchStamp(root, now, note);
      } catch (err) {
        // A full store (ENOSPC, no inode for the stamp) is the one eviction must not skip.
        note(`${storeRoot}/${STAMP}: ${(err as Error).message}; evicting without it`);
      }
      return evictCrates(root, { ...opts, note });
    } finally {
      lock.release();
    }
  });
}

function touchStamp(root: DirHandle, now: number, note: (line: string) => void): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    const opened = openFile(entryPath(root, STAMP), constants.O_WRONLY | constants.O_CREAT, 0o644);
    if ('refused' in opened) {
      note(`${root.path}/${STAMP} was a ${opened.refused}; removed`);
      unlinkEntry(root, STAMP);
      continue;
    }
    if (opened.st.nlink !== 1) {
      // A hard link to a file elsewhere: futimes would change that file's times.
      closeSync(opened.fd);
      note(`${root.path}/${STAMP} had ${opened.st.nlink} links; removed`);
      unlinkEntry(root, STAMP);
      continue;
    }
    try {
      futimesSync(opened.fd, now / 1000, now / 1000);
    } finally {
      closeSync(opened.fd);
    }
    return;
  }
}

/** Apparent size of regular files in a tree (hard links counted once per name), never following a link. */
function treeBytes(parent: DirHandle, name: string, depth = 0): number {
  const dir = openSubdir(parent, name);
  if (!dir) return 0;
  let total = 0;
  try {
    for (const e of listEntries(dir)) {
      if (e.kind === 'file') total += e.st.size;
      else if (e.kind === 'dir' && depth < MAX_DEPTH) total += treeBytes(dir, e.name, depth + 1);
    }
  } finally {
    closeDir(dir);
  }
  return total;
}
