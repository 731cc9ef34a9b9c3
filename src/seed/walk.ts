/**
 * Walks a seed tree into a plan. Symlinks are followed (a Bazel sandbox stages
 * every input as one) to files and to directories, but only into the seed
 * itself or the execroot's output tree (scope.ts); a directory reached again
 * through its own ancestor (same dev+ino) is a cycle and is skipped. FIFOs,
 * sockets, devices and symlinks leading elsewhere are skipped and reported:
 * none belongs in a seed.
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent, type BigIntStats } from 'node:fs';
import { isSystemError, SeedwrapError } from '../errors.ts';
import { specialKind } from '../fsSafe.ts';
import { addFile, joinRel, startGroup, type Plan } from './plan.ts';
import { isWithin, type Scope } from './scope.ts';
import { maybeYield, SLICE_MS } from './interrupt.ts';

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

/**
 * A directory reached more often than this (through directory symlinks) makes
 * the seed a symlink DAG, whose walk grows exponentially with its depth (k
 * levels of two links to the next level: 2^k copies of the deepest). Up to
 * this bound the DAG is expanded path by path (k=8 levels still seed, 511
 * files); past it the seed is refused, after at most ~2×MAX_VISITS directory
 * walks of such a chain, instead of running for hours.
 */
export const MAX_VISITS = 256;

/**
 * The most files and directories one seed may plan, every path through a
 * directory symlink counted: MAX_VISITS alone let 250 symlinks to one
 * 20,000-file directory plan 5,000,000 files (45 s, 1.27 GB). A million
 * entries took 12 s and 300 MB to walk here under load; a rustc session has
 * hundreds to thousands of files.
 */
export const MAX_ENTRIES = 1_000_000;

/** State of one plan's walk: the dev+ino of the directories on the current path, and of every directory walked so far. */
export interface WalkContext {
  /** Where symlinks may resolve to (scope.ts). */
  scope: Scope;
  ancestors: Set<string>;
  visits: Map<string, number>;
  /** Told the number of files planned so far after each directory (strategy.ts boots workers early). */
  onWalked?: (files: number) => void;
  /** Aborted by SIGTERM/SIGINT: the walk yields every SLICE_MS so the handler can run, then stops. */
  signal?: AbortSignal;
  sliceEnd: number;
}

export function newWalk(scope: Scope, onWalked?: (files: number) => void, signal?: AbortSignal): WalkContext {
  return { scope, ancestors: new Set(), visits: new Map(), onWalked, signal, sliceEnd: performance.now() + SLICE_MS };
}

export async function walkDir(plan: Plan, srcDir: string, rel: string, rules: WalkRules, ctx: WalkContext, shownAs = srcDir): Promise<void> {
  if (performance.now() >= ctx.sliceEnd) ctx.sliceEnd = await maybeYield(ctx.sliceEnd, ctx.signal);
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
  for (const entry of entries) addEntry(plan, srcDir, entry, rel, rules, subdirs, ctx.scope);
  checkSize(plan, shownAs);
  ctx.onWalked?.(plan.names.length);
  if (subdirs.length === 0) return;
  ctx.ancestors.add(id);
  for (const [src, childRel, shown] of subdirs) await walkDir(plan, src, childRel, rules, ctx, shown);
  ctx.ancestors.delete(id);
}

/** Refuses a plan past MAX_ENTRIES (checked once per directory). */
export function checkSize(plan: Plan, shownAs: string): void {
  if (plan.names.length + plan.dirs.length <= MAX_ENTRIES) return;
  throw new SeedwrapError('SEED', `the seed has more than ${MAX_ENTRIES} files and directories (the limit; every path through a directory symlink counts), reached at ${shownAs}; refusing to seed it`);
}

/** Adds one directory entry; directories are collected into `subdirs` for the caller to walk. */
export function addEntry(plan: Plan, srcDir: string, entry: Dirent, rel: string, rules: WalkRules, subdirs: Subdir[], scope: Scope): void {
  if (entry.isFile()) return addFile(plan, entry.name, rules.fileKind(entry.name)); // a name only: no path per file (plan.ts)
  const src = `${srcDir}/${entry.name}`; // not path.join: it normalises
  const childRel = joinRel(rel, entry.name);
  if (entry.isDirectory()) subdirs.push([src, childRel, src]);
  else if (entry.isSymbolicLink()) followLink(plan, entry, src, childRel, rules, subdirs, scope);
  else plan.skipped.push({ path: src, reason: specialKind(entry) });
}

/**
 * Resolves a symlink once, checks the real path against the scope, and plans
 * that real path: placement (link(2) does not follow a final symlink; copies
 * open it with O_NOFOLLOW, place.ts) never resolves the symlink again. lstat,
 * not stat: a real path whose last component has become a symlink since is skipped.
 */
function followLink(plan: Plan, entry: Dirent, src: string, rel: string, rules: WalkRules, subdirs: Subdir[], scope: Scope): void {
  const link = resolveLink(src);
  if ('why' in link) return void plan.skipped.push({ path: src, reason: link.why });
  const { real } = link;
  if (!isWithin(real, scope.roots)) return void plan.skipped.push({ path: src, reason: `symlink to ${real}, outside the seed and the execroot's output tree` });
  const target = lstatSync(real, { throwIfNoEntry: false });
  if (target === undefined) plan.skipped.push({ path: src, reason: 'dangling symlink' });
  else if (target.isFile()) addFile(plan, entry.name, rules.fileKind(entry.name), real);
  else if (target.isDirectory()) subdirs.push([refuseDestInside(real, src, scope), rel, src]);
  else plan.skipped.push({ path: src, reason: target.isSymbolicLink() ? 'symlink changed while seeding' : `symlink to a ${specialKind(target)}` });
}

/** A directory symlink to DEST or to one of its ancestors (its parent, say) would put DEST inside the seed: refused like a DEST inside SRC (commit.ts). */
function refuseDestInside(real: string, src: string, scope: Scope): string {
  if (!isWithin(scope.dest, [real])) return real;
  throw new SeedwrapError('SEED', `seed destination ${scope.dest} is inside the seed, through the symlink ${src} -> ${real}; refusing to modify the seed`);
}

/** The real path a symlink resolves to, or why there is nothing to follow. */
function resolveLink(src: string): { real: string } | { why: string } {
  try {
    return { real: realpathSync.native(src) };
  } catch (err) {
    if (isSystemError(err, 'ENOENT')) return { why: 'dangling symlink' };
    if (isSystemError(err, 'ELOOP')) return { why: 'symlink loop' };
    throw err;
  }
}
