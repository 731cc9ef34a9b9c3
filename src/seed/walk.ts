/**
 * Walks a seed tree into a plan. Symlinks are followed (a Bazel sandbox stages
 * every input as one) to files and to directories; a directory reached again
 * through its own ancestor (same dev+ino) is a cycle and is skipped. FIFOs,
 * sockets and devices are skipped and reported: none belongs in a seed.
 */
import { readdirSync, realpathSync, statSync, type Dirent, type BigIntStats, type Stats } from 'node:fs';
import { isSystemError } from '../errors.ts';
import { addFile, joinRel, startGroup, type Plan } from './plan.ts';

export interface WalkRules {
  /** The plan kind for a file (KIND_LINK, KIND_OWN...). */
  fileKind(name: string): number;
  /** The final mode of a directory, from its source mode. */
  dirMode(srcMode: number): number;
}

/** A directory still to walk: its real path, its path in DEST, and the path to report (the symlink, if one led there). */
export type Subdir = [string, string, string];

function identity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

function specialKind(st: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  return 'not a file or directory';
}

/**
 * Adds the directory `srcDir` (already known to be one) as `rel` in DEST.
 * `ancestors` holds the dev+ino of every directory on the path from the root.
 */
export function walkDir(plan: Plan, srcDir: string, rel: string, rules: WalkRules, ancestors: Set<string>, shownAs = srcDir): void {
  const st = statSync(srcDir, { bigint: true });
  const id = identity(st);
  if (ancestors.has(id)) {
    plan.skipped.push({ path: shownAs, reason: 'directory cycle' });
    return;
  }
  plan.dirs.push({ rel, mode: rules.dirMode(Number(st.mode & 0o7777n)) });
  const entries = readdirSync(srcDir, { withFileTypes: true });
  const subdirs: Subdir[] = [];
  startGroup(plan);
  for (const entry of entries) addEntry(plan, srcDir, entry, rel, rules, subdirs);
  if (subdirs.length === 0) return;
  ancestors.add(id);
  for (const [src, childRel, shown] of subdirs) walkDir(plan, src, childRel, rules, ancestors, shown);
  ancestors.delete(id);
}

/** Adds one directory entry; directories are collected into `subdirs` for the caller to walk. */
export function addEntry(plan: Plan, srcDir: string, entry: Dirent, rel: string, rules: WalkRules, subdirs: Subdir[]): void {
  const src = `${srcDir}/${entry.name}`; // not path.join: it normalises, and this runs once per file
  const childRel = joinRel(rel, entry.name);
  if (entry.isFile()) addFile(plan, src, childRel, rules.fileKind(entry.name));
  else if (entry.isDirectory()) subdirs.push([src, childRel, src]);
  else if (entry.isSymbolicLink()) followLink(plan, entry, src, childRel, rules, subdirs);
  else plan.skipped.push({ path: src, reason: specialKind(entry) });
}

function followLink(plan: Plan, entry: Dirent, src: string, rel: string, rules: WalkRules, subdirs: Subdir[]): void {
  const target = statTarget(src);
  if (typeof target === 'string') {
    plan.skipped.push({ path: src, reason: target });
  } else if (target.isFile()) {
    addFile(plan, realpathSync(src), rel, rules.fileKind(entry.name));
  } else if (target.isDirectory()) {
    subdirs.push([realpathSync(src), rel, src]);
  } else {
    plan.skipped.push({ path: src, reason: `symlink to a ${specialKind(target)}` });
  }
}

/** The followed stat of a symlink, or why there is nothing to follow. */
function statTarget(src: string): Stats | string {
  try {
    return statSync(src);
  } catch (err) {
    if (isSystemError(err, 'ENOENT')) return 'dangling symlink';
    if (isSystemError(err, 'ELOOP')) return 'symlink loop';
    throw err;
  }
}
