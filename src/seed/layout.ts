/**
 * rustc's incremental directory: `DIR/<crate>-<stable-id>/s-<time>-<rand>-<svh>/`
 * plus `s-....lock` beside each session (see shared/notes/rustc-incremental.md).
 * rustc only loads the newest finalised session, so only that one is seeded,
 * with a fresh lock file, writable directories and (when rustc will write into
 * DEST) `*.o` work products on inodes of their own. Everything else in the
 * tree is mirrored 1:1.
 */
import { opendirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KIND_LINK, KIND_LOCK, KIND_OWN } from './place.ts';
import { addFile, emptyPlan, joinRel, startGroup, type Plan } from './plan.ts';
import type { Scope } from './scope.ts';
import { addEntry, checkSize, newWalk, walkDir, type Subdir, type WalkContext, type WalkRules } from './walk.ts';

const SESSION = /^s-([0-9a-z]+)-[0-9a-z]+-([0-9a-z]+)$/;
const WORKING = /^s-[0-9a-z]+-[0-9a-z]+-working$/;
/** A session's lock drops the svh: `s-<time>-<rand>.lock` for both `s-<time>-<rand>-<svh>` and `...-working`. */
const LOCK = /^s-[0-9a-z]+-[0-9a-z]+\.lock$/;

export type Layout = 'rustc' | 'mirror';

/** Mirrored directories keep their mode but stay owner-writable, so DEST can always be filled and deleted. */
const mirrorRules: WalkRules = { fileKind: () => KIND_LINK, dirMode: (mode) => mode | 0o700 };
/** rustc creates its lock and `-working` session inside these directories: all 0755. */
const rustcRules: WalkRules = { fileKind: () => KIND_LINK, dirMode: () => 0o755 };

function isDir(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** `<crate-name>-<stable-crate-id in base 36>`. */
const CRATE_DIR = /^[A-Za-z0-9_]+-[0-9a-z]+$/;

/**
 * A crate directory holds rustc sessions (finished or not) and their locks.
 * Only names shaped like one are opened, and only the first entry is read:
 * rustc puts nothing else there, and a full readdir of every top-level
 * directory of a large mirrored tree would cost as much as the walk.
 */
function isCrateDir(dir: string, name: string): boolean {
  if (!CRATE_DIR.test(name) || !isDir(`${dir}/${name}`)) return false;
  const first = firstEntry(`${dir}/${name}`);
  return first !== undefined && (SESSION.test(first) || WORKING.test(first) || LOCK.test(first));
}

function firstEntry(path: string): string | undefined {
  const dir = opendirSync(path);
  try {
    return dir.readSync()?.name;
  } finally {
    dir.closeSync();
  }
}

/** rustc's timestamps are base-36 microseconds: a longer string is later, equal lengths compare as text. */
function isLater(time: string, than: string): boolean {
  return time.length !== than.length ? time.length > than.length : time > than;
}

function lockOf(session: string): string {
  return `${session.slice(0, session.lastIndexOf('-'))}.lock`;
}

function newestSession(names: string[], dir: string): string | undefined {
  let best: string | undefined;
  let bestTime = '';
  for (const name of names) {
    const time = WORKING.test(name) ? undefined : SESSION.exec(name)?.[1];
    if (time === undefined || !isDir(join(dir, name))) continue;
    if (best === undefined || isLater(time, bestTime)) [best, bestTime] = [name, time];
  }
  return best;
}

/** `scope`: where the seed's symlinks may resolve to (scope.ts). */
export async function planSeed(src: string, writableWorkProducts: boolean, scope: Scope, onWalked?: (files: number) => void, signal?: AbortSignal): Promise<{ layout: Layout; plan: Plan }> {
  const plan = emptyPlan();
  const ctx = newWalk(scope, onWalked, signal);
  const crateDirs = readdirSync(src).filter((name) => isCrateDir(src, name));
  if (crateDirs.length === 0) {
    await walkDir(plan, src, '', mirrorRules, ctx);
    return { layout: 'mirror', plan };
  }
  const sessionRules: WalkRules = {
    fileKind: (name) => (writableWorkProducts && name.endsWith('.o') ? KIND_OWN : KIND_LINK),
    dirMode: () => 0o755,
  };
  plan.dirs.push({ rel: '', mode: 0o755 });
  startGroup(plan, src, '');
  const subdirs: Subdir[] = [];
  for (const entry of readdirSync(src, { withFileTypes: true })) {
    if (!crateDirs.includes(entry.name)) addEntry(plan, src, entry, '', rustcRules, subdirs, scope);
  }
  checkSize(plan, src);
  for (const [dir, rel, shown] of subdirs) await walkDir(plan, dir, rel, rustcRules, ctx, shown);
  for (const name of crateDirs) await planCrateDir(plan, join(src, name), name, sessionRules, ctx);
  return { layout: 'rustc', plan };
}

async function planCrateDir(plan: Plan, dir: string, rel: string, sessionRules: WalkRules, ctx: WalkContext): Promise<void> {
  const entries = readdirSync(dir, { withFileTypes: true });
  const names = entries.map((e) => e.name);
  const keep = newestSession(names, dir);
  const keepLock = keep === undefined ? undefined : lockOf(keep);
  const workingLocks = new Set(names.filter((n) => WORKING.test(n)).map(lockOf));
  plan.dirs.push({ rel, mode: 0o755 });
  startGroup(plan, dir, rel);
  const others: Subdir[] = [];
  for (const entry of entries) {
    const { name } = entry;
    const path = join(dir, name);
    if (name === keep || name === keepLock) continue;
    if (WORKING.test(name) || workingLocks.has(name)) plan.skipped.push({ path, reason: 'unfinished session' });
    else if (SESSION.test(name) || LOCK.test(name)) plan.skipped.push({ path, reason: 'older session' });
    else addEntry(plan, dir, entry, rel, rustcRules, others, ctx.scope);
  }
  if (keepLock !== undefined) addFile(plan, keepLock, KIND_LOCK);
  checkSize(plan, dir);
  for (const [src, childRel, shown] of others) await walkDir(plan, src, childRel, rustcRules, ctx, shown);
  if (keep !== undefined) await walkDir(plan, join(dir, keep), joinRel(rel, keep), sessionRules, ctx);
}

