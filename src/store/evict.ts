import { lstatSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSystemError } from '../errors.ts';
import { listDir, removeDir } from './crateDir.ts';
import { tryLock, unlock } from './lock.ts';

/**
 * Least-recently-used eviction, one crate directory (`<partition>/<crate>-<id>/`)
 * at a time. A crate directory's mtime is its last use: rustc adds and removes
 * session directories in it on every compile. Directories used within
 * `protectMs` are never removed: a compile may be running in them (rustc holds
 * its session locks with flock, which another process cannot see without
 * taking them).
 */
export interface EvictOptions {
  maxBytes: number;
  protectMs: number;
  now?: number;
}

export interface CrateUse {
  dir: string;
  bytes: number;
  lastUsed: number;
}

function crateUses(storeRoot: string): CrateUse[] {
  const out: CrateUse[] = [];
  for (const part of listDir(storeRoot)) {
    if (part.startsWith('.')) continue;
    const partDir = join(storeRoot, part);
    for (const name of listDir(partDir)) {
      const dir = join(partDir, name);
      try {
        const st = lstatSync(dir);
        if (st.isDirectory()) out.push({ dir, bytes: treeBytes(dir), lastUsed: st.mtimeMs });
      } catch (err) {
        if (!isSystemError(err, 'ENOENT')) throw err;
      }
    }
  }
  return out;
}

/** Removes least recently used crate directories until the store fits `maxBytes`; returns those removed. */
export function evictCrates(storeRoot: string, opts: EvictOptions): CrateUse[] {
  const now = opts.now ?? Date.now();
  const uses = crateUses(storeRoot).sort((a, b) => a.lastUsed - b.lastUsed);
  let total = uses.reduce((sum, u) => sum + u.bytes, 0);
  const removed: CrateUse[] = [];
  for (const u of uses) {
    if (total <= opts.maxBytes) break;
    if (now - u.lastUsed < opts.protectMs) continue;
    removeDir(u.dir, storeRoot);
    total -= u.bytes;
    removed.push(u);
  }
  for (const name of listDir(storeRoot)) if (name.startsWith('.trash-')) removeDir(join(storeRoot, name), storeRoot);
  return removed;
}

const STAMP = '.seedwrap-evicted';
const LOCK = '.seedwrap-evict.lock';

/**
 * Eviction after a compile, at most once per `intervalMs` per store (walking
 * the whole store on every action would cost more than it saves) and by one
 * process at a time. Returns what was removed, or undefined if it was not its turn.
 */
export function maybeEvict(storeRoot: string, opts: EvictOptions & { intervalMs: number }): CrateUse[] | undefined {
  const now = opts.now ?? Date.now();
  const stamp = join(storeRoot, STAMP);
  try {
    if (now - statSync(stamp).mtimeMs < opts.intervalMs) return undefined;
  } catch (err) {
    if (!isSystemError(err, 'ENOENT')) throw err;
  }
  const lock = join(storeRoot, LOCK);
  if (!tryLock(lock)) return undefined;
  try {
    writeFileSync(stamp, '');
    utimesSync(stamp, now / 1000, now / 1000);
    return evictCrates(storeRoot, opts);
  } finally {
    unlock(lock);
  }
}

/** Apparent size of a tree (files counted once per name). */
function treeBytes(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if (isSystemError(err, 'ENOENT')) continue;
      throw err;
    }
    for (const entry of entries) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) stack.push(p);
      else if (entry.isFile()) {
        try {
          total += statSync(p).size;
        } catch (err) {
          if (!isSystemError(err, 'ENOENT')) throw err;
        }
      }
    }
  }
  return total;
}
