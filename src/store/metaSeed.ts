import { closeSync, linkSync, mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { basename, join } from 'node:path';
import { closeDir, entryPath, listEntries, openSubdir, removeTree, withDir, type DirHandle } from '../fsSafe.ts';
import { crateDirNames, FINISHED_SESSION, lockOf } from './crateDir.ts';

/**
 * A pipelined metadata action (`--rustc-quit-on-rmeta`) that compiles
 * itself is killed at its rmeta, so its session is never finalized: in the
 * crate's shared directory it left a 9–22 MB `-working` directory per build
 * and a lock beside the full compile's (bench/pipelining/findings.md, c2).
 * Instead rustc gets a private hard-linked copy of the crate's newest
 * finished session: as fast as the shared directory (serde_json 284 vs 308
 * ms, regex 408 vs 406 ms CPU after a body edit), never writing into it.
 *
 * The copy lives in the partition itself, `<partition>/.seedwrap-meta-XXXXXX/
 * <crate>-<id>/s-…`: on the store's file system (hard links; linux-sandbox
 * gives EXDEV across its mounts) and under the store's bind, so the child
 * sees it in its namespace. Each lock file is fresh and empty (rustc ignores
 * a session whose lock is a read-only hard link: notes/rustc-incremental.md).
 * The crate hash does not depend on the directory (findings.md, question 4),
 * so only the child's `-C incremental` changes. The copy is removed after the
 * compile without following links; eviction and the crate-name checks never
 * look at dot-entries; a copy left by a killed wrapper is swept by eviction.
 */
export const META_PREFIX = '.seedwrap-meta-';
export const META_DIR = /^\.seedwrap-meta-[A-Za-z0-9]{6}$/;

export interface MetaSeed {
  /** The copy's directory as rustc sees it (the `-C incremental` value). */
  seen: string;
  /** How many sessions were copied (0: the crate had none; rustc starts cold, as it would in the shared directory). */
  sessions: number;
  remove(): void;
}

/**
 * Makes the copy in the real partition `partReal`, named for rustc under
 * `partSeen`. Throws when it cannot be made (a session removed meanwhile by
 * the full compile: ENOENT); the caller then uses the shared directory.
 */
export function makeMetaSeed(partReal: string, partSeen: string, crateName: string): MetaSeed {
  const dir = mkdtempSync(join(partReal, META_PREFIX));
  const name = basename(dir);
  const remove = () => void withDir(partReal, (part) => removeTree(part, name));
  try {
    const sessions = withDir(partReal, (part) => copyNewestSessions(part, dir, crateName)) ?? 0;
    return { seen: join(partSeen, name), sessions, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

/** For each of the crate's directories, its newest finished session, linked file by file into `dest`. */
function copyNewestSessions(part: DirHandle, dest: string, crateName: string): number {
  let copied = 0;
  for (const crate of crateDirNames(part, crateName)) {
    const src = openSubdir(part, crate);
    if (!src) continue;
    try {
      const newest = listEntries(src)
        .filter((e) => e.kind === 'dir' && FINISHED_SESSION.test(e.name))
        .map((e) => e.name)
        .sort((a, b) => sessionTime(b) - sessionTime(a))[0];
      if (newest === undefined) continue;
      mkdirSync(join(dest, crate, newest), { recursive: true });
      const session = openSubdir(src, newest);
      if (!session) throw Object.assign(new Error(`${src.path}/${newest} vanished`), { code: 'ENOENT' });
      try {
        for (const f of listEntries(session)) {
          // A session holds files only; anything else is not rustc's and is not copied.
          if (f.kind === 'file') linkSync(entryPath(session, f.name), join(dest, crate, newest, f.name));
        }
      } finally {
        closeDir(session);
      }
      closeSync(openSync(join(dest, crate, lockOf(newest)), 'wx', 0o644));
      copied++;
    } finally {
      closeDir(src);
    }
  }
  return copied;
}

/** rustc's session timestamp: microseconds since the epoch in base 36 (`s-<time>-<random>-<svh>`). */
function sessionTime(name: string): number {
  return parseInt(name.split('-')[1]!, 36);
}
