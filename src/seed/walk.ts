/**
 * Walks a seed tree into a plan. Symlinks are followed (a Bazel sandbox stages
 * every input as one) to files and to directories; a directory reached again
 * through its own ancestor (same dev+ino) is a cycle and is skipped. FIFOs,
 * sockets and devices are skipped and reported: none belongs in a seed.
 */
import { readdirSync, realpathSync, statSync, type Dirent, type BigIntStats, type Stats } from 'node:fs';
import { isSystemError, SeedwrapError } from '../errors.ts';
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
 */
/**
 * A directory reached more often than this (through directory symlinks) makes
 * the seed a symlink DAG, whose walk grows exponentially with its depth (k
 * levels of two links to the next level: 2^k copies of the deepest). Up to
 * this bound the DAG is expanded path by path (k=8 levels still seed, 511
 * files); past it the seed is refused, after at most ~2×MAX_VISITS directory
 * walks of such a chain, instead of running for hours.
 */
export const MAX_VISITS = 256;

/** State of one plan's walk: the dev+ino of the directories on the current path, and of every directory walked so far. */
export interface WalkContext {
  ancestors: Set<string>;
  visits: Map<string, number>;
  /** Told the number of files planned so far after each directory (strategy.ts boots workers early). */
  onWalked?: (files: number) => void;
}

export function newWalk(onWalked?: (files: number) => void): WalkContext {
  return { ancestors: new Set(), visits: new Map(), onWalked };
}

export function walkDir(plan: Plan, srcDir: string, rel: string, rules: WalkRules, ctx: WalkContext, shownAs = srcDir): void {
  const st = statSync(srcDir, { bigint: true });
  const id = identity(st);
  if (ctx.ancestors.has(id)) {
    plan.skipped.push({ path: shownAs, reason: 'directory cycle' });
    return;
  }
  const visits = (ctx.visits.get(id) ?? 0) + 1;
  if (visits > MAX_VISITS) {
    throw new SeedwrapError('SEED', `${srcDir} is reached through directory symlinks more than ${MAX_VISITS} times (via ${shownAs}); refusing to seed a symlink DAG`);
  }
  ctx.visits.set(id, visits);
  plan.dirs.push({ rel, mode: rules.dirMode(Number(st.mode & 0o7777n)) });
  const entries = readdirSync(srcDir, { withFileTypes: true });
  const subdirs: Subdir[] = [];
  startGroup(plan, srcDir, rel);
  for (const entry of entries) addEntry(plan, srcDir, entry, rel, rules, subdirs);
  ctx.onWalked?.(plan.names.length);
  if (subdirs.length === 0) return;
  ctx.ancestors.add(id);
  for (const [src, childRel, shown] of subdirs) walkDir(plan, src, childRel, rules, ctx, shown);
  ctx.ancestors.delete(id);
}

/** Adds one directory entry; directories are collected into `subdirs` for the caller to walk. */
export function addEntry(plan: Plan, srcDir: string, entry: Dirent, rel: string, rules: WalkRules, subdirs: Subdir[]): void {
  if (entry.isFile()) return addFile(plan, entry.name, rules.fileKind(entry.name)); // a name only: no path per file (plan.ts)
  const src = `${srcDir}/${entry.name}`; // not path.join: it normalises
  const childRel = joinRel(rel, entry.name);
  if (entry.isDirectory()) subdirs.push([src, childRel, src]);
  else if (entry.isSymbolicLink()) followLink(plan, entry, src, childRel, rules, subdirs);
  else plan.skipped.push({ path: src, reason: specialKind(entry) });
}

function followLink(plan: Plan, entry: Dirent, src: string, rel: string, rules: WalkRules, subdirs: Subdir[]): void {
  const target = statTarget(src);
  if (typeof target === 'string') {
    plan.skipped.push({ path: src, reason: target });
  } else if (target.isFile()) {
    addFile(plan, entry.name, rules.fileKind(entry.name), realpathSync(src));
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
