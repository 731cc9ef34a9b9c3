import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSystemError } from '../../errors.ts';
import type { CacheKey } from './key.ts';
import { tryLock, unlock } from '../../store/lock.ts';

/**
 * The cache on disk, under the root:
 *   v1/<key hash>/key.json          the key's fields, for people
 *   v1/<key hash>/slot-<n>/         one incremental directory, given to rustc
 *   v1/<key hash>/slot-<n>.lock     held while a request uses the slot
 *   v1/<key hash>/slot-<n>.json     { bytes, lastUsed } after each use
 * A key has several slots so that two concurrent compiles of the same key
 * never share a directory: the second gets the next free slot.
 */
export const MAX_SLOTS = 4;

export interface Lease {
  dir: string;
  release(): void;
}

interface SlotMeta {
  bytes: number;
  lastUsed: number;
}

export class IncrementalStore {
  private readonly base: string;

  constructor(root: string) {
    this.base = join(root, 'v1');
  }

  /** A free slot for `key`, locked for this request; undefined if all are busy. */
  lease(key: CacheKey): Lease | undefined {
    const keyDir = join(this.base, key.hash);
    mkdirSync(keyDir, { recursive: true });
    const keyFile = join(keyDir, 'key.json');
    if (!existsSync(keyFile)) writeAtomic(keyFile, `${JSON.stringify(key.fields, null, 2)}\n`);
    for (let n = 0; n < MAX_SLOTS; n++) {
      const lock = join(keyDir, `slot-${n}.lock`);
      if (!tryLock(lock)) continue;
      const dir = join(keyDir, `slot-${n}`);
      mkdirSync(dir, { recursive: true });
      return {
        dir,
        release: () => {
          // Size the slot while it is still ours: nobody else writes it now.
          const meta: SlotMeta = { bytes: treeBytes(dir), lastUsed: Date.now() };
          writeAtomic(join(keyDir, `slot-${n}.json`), JSON.stringify(meta));
          unlock(lock);
        },
      };
    }
    return undefined;
  }

  /**
   * Deletes least recently used slots until the recorded total is within
   * `maxBytes`. A slot in use is skipped (its lock is taken for the deletion,
   * so no request can lease it meanwhile). The most recently used slot is kept
   * even when it alone exceeds the cap. Returns the number of slots removed.
   */
  evict(maxBytes: number): number {
    const slots = this.slots();
    let total = slots.reduce((sum, s) => sum + s.meta.bytes, 0);
    if (total <= maxBytes) return 0;
    slots.sort((a, b) => a.meta.lastUsed - b.meta.lastUsed);
    let removed = 0;
    for (const s of slots.slice(0, -1)) {
      if (total <= maxBytes) break;
      if (!tryLock(s.lock)) continue;
      try {
        // Rename first: a crash mid-delete leaves trash, never a half slot.
        const trash = join(this.base, `.trash-${randomBytes(6).toString('hex')}`);
        if (existsSync(s.dir)) renameSync(s.dir, trash);
        rmSync(s.metaFile, { force: true });
        rmSync(trash, { recursive: true, force: true });
      } finally {
        unlock(s.lock);
      }
      total -= s.meta.bytes;
      removed++;
    }
    return removed;
  }

  /** Recorded total of all slots, in bytes. */
  totalBytes(): number {
    return this.slots().reduce((sum, s) => sum + s.meta.bytes, 0);
  }

  private slots(): Array<{ dir: string; lock: string; metaFile: string; meta: SlotMeta }> {
    const out = [];
    for (const hash of listDir(this.base)) {
      if (hash.startsWith('.')) continue;
      const keyDir = join(this.base, hash);
      for (const name of listDir(keyDir)) {
        const m = /^slot-(\d+)\.json$/.exec(name);
        if (!m) continue;
        const metaFile = join(keyDir, name);
        const meta = readMeta(metaFile);
        if (!meta) continue;
        out.push({ dir: join(keyDir, `slot-${m[1]}`), lock: join(keyDir, `slot-${m[1]}.lock`), metaFile, meta });
      }
    }
    return out;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (isSystemError(err, 'ENOENT', 'ENOTDIR')) return [];
    throw err;
  }
}

function readMeta(file: string): SlotMeta | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Partial<SlotMeta>;
    return typeof m.bytes === 'number' && typeof m.lastUsed === 'number' ? { bytes: m.bytes, lastUsed: m.lastUsed } : undefined;
  } catch {
    return undefined;
  }
}

/** Write to a temp name, then rename: a reader never sees half a file. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Apparent size of a tree (files counted once per name, as `du --apparent-size -l`). */
export function treeBytes(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
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
