/**
 * Atomic publication of DEST. The tree is built in a staging directory beside
 * DEST (same filesystem, so rename(2) is atomic) and renamed into place only
 * when complete: rustc, or a killed seedwrap, can never see half a seed. A run
 * killed with SIGKILL leaves its staging directory behind; its name carries the
 * pid, and the next run for the same DEST removes those whose process is gone.
 */
import { chmodSync, mkdirSync, readdirSync, realpathSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { describe, isSystemError, SeedwrapError } from '../errors.ts';
import { lstatOrNone, removeTree, withDir } from '../fsSafe.ts';

/**
 * Removes a staging tree without following any link in it (fsSafe.ts). Its
 * parent is DEST's, which the user named and may reach through a symlink: it
 * is resolved first. Seeds may be as deep as a path allows.
 */
function removeTreeAt(path: string): void {
  if (!lstatOrNone(path)) return;
  withDir(realpathSync(dirname(path)), (parent) => removeTree(parent, basename(path), { maxDepth: SEED_MAX_DEPTH }));
}

/** A path of PATH_MAX (4096) bytes has at most 2048 components. */
const SEED_MAX_DEPTH = 2048;

function stagingPrefix(dest: string): string {
  return `.${basename(dest)}.seedwrap-staging-`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isSystemError(err, 'ESRCH');
  }
}

/** The pid in a name createStaging makes (`<prefix><pid>-<8 hex digits>`), or undefined for any other name. */
function stagingPid(name: string, prefix: string): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const m = /^([1-9][0-9]*)-[0-9a-f]{8}$/.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes staging directories of earlier runs for this DEST whose process no
 * longer exists. Only names createStaging makes, and only directories: a
 * user's `.<DEST>.seedwrap-staging-notes.txt` is not ours to delete.
 */
export function cleanLeftovers(dest: string): string[] {
  const prefix = stagingPrefix(dest);
  const removed: string[] = [];
  for (const name of readdirSync(dirname(dest))) {
    const pid = stagingPid(name, prefix);
    if (pid === undefined || isAlive(pid)) continue;
    const path = join(dirname(dest), name);
    if (!lstatOrNone(path)?.isDirectory()) continue;
    removeTreeAt(path);
    removed.push(name);
  }
  return removed;
}

/** Refuses a DEST we must not replace; an empty directory is replaced by rename(2). */
export function checkDest(dest: string): void {
  const st = lstatOrNone(dest);
  if (st === undefined) return;
  if (st.isSymbolicLink()) throw new SeedwrapError('SEED', `seed destination ${dest} is a symlink; refusing to write through it`);
  if (!st.isDirectory()) throw new SeedwrapError('SEED', `seed destination ${dest} exists and is not a directory`);
  if (readdirSync(dest).length > 0) throw new SeedwrapError('SEED', `seed destination ${dest} is not empty`);
}

/** DEST's real path: the real path of its nearest existing ancestor, plus the rest. */
export function realDestPath(dest: string): string {
  const missing: string[] = [];
  let at = dest;
  for (;;) {
    try {
      return join(realpathSync(at), ...missing.reverse());
    } catch (err) {
      if (!isSystemError(err, 'ENOENT') || dirname(at) === at) throw err;
      missing.push(basename(at));
      at = dirname(at);
    }
  }
}

/** A DEST inside the seed would put links into the seed (raising its link counts) and into the next seed taken from it. */
export function checkOutsideSeed(src: string, dest: string): void {
  const inside = relative(realpathSync(src), realDestPath(dest));
  if (inside !== '..' && !inside.startsWith('../') && !isAbsolute(inside)) {
    throw new SeedwrapError('SEED', `seed destination ${dest} is inside the seed ${src}; refusing to modify the seed`);
  }
}

export function createStaging(dest: string): string {
  mkdirSync(dirname(dest), { recursive: true });
  const staging = join(dirname(dest), `${stagingPrefix(dest)}${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { mode: 0o700 });
  return staging;
}

export function publish(staging: string, dest: string, rootMode: number): void {
  chmodSync(staging, rootMode);
  try {
    renameSync(staging, dest);
  } catch (err) {
    const why = isSystemError(err, 'ENOTEMPTY', 'EEXIST') ? 'was filled by someone else meanwhile' : describe(err);
    throw new SeedwrapError('SEED', `cannot move the seed into ${dest}: ${why}`, { cause: err });
  }
}

/** The contract after a failure: no staging left, DEST exists (empty if we created it). */
export function abandon(staging: string | undefined, dest: string): void {
  if (staging !== undefined) removeTreeAt(staging);
  ensureDest(dest);
}

export function ensureDest(dest: string): void {
  try {
    mkdirSync(dest, { recursive: true });
  } catch {
    // DEST could not be created (it is a file, or its parent is unwritable): the
    // seed error already thrown says more than this one would.
  }
}
