import { createHash, randomBytes } from 'node:crypto';
import { relative, resolve } from 'node:path';
import { closeDir, listEntries, openSubdir, renameAndRemove, unlinkEntry, withDir, type DirHandle } from '../fsSafe.ts';
import { lockState } from './lock.ts';

/**
 * The store's layout: `STORE/<partition>/<crate>-<stable crate id>/`, the last
 * level made by rustc itself (one per crate, with its session locks). The
 * partition keeps apart compiles of one crate whose tracked options differ in
 * a way rustc would otherwise see as "the command line changed" and throw away
 * the other's session on every build: another configuration (Bazel's
 * `--out-dir` holds it: k8-fastbuild, k8-opt, the exec configuration) or
 * another `--emit`. A pipelined build's metadata action has the same flags as
 * the full compile and shares its partition (see docs/store.md). The
 * incremental directory's path is not part of the crate hash.
 */

/** rustc options that take their value as the next argument (so it is not the crate root). */
const TAKES_VALUE = new Set(['-o', '-L', '-l', '-C', '--codegen', '-Z', '-W', '-A', '-D', '-F', '--cap-lints', '--cfg', '--check-cfg', '--crate-name', '--crate-type', '--edition', '--emit', '--explain', '--extern', '--out-dir', '--print', '--sysroot', '--target', '--error-format', '--json', '--color', '--remap-path-prefix', '--env-set']);

export interface CrateCompile {
  crateName: string;
  /** The crate root source file, as given. */
  root: string | undefined;
  partition: string;
}

function lastValue(args: readonly string[], flag: string): string | undefined {
  let v: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) v = args[++i];
    else if (args[i]!.startsWith(`${flag}=`)) v = args[i]!.slice(flag.length + 1);
  }
  return v;
}

function crateRoot(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (TAKES_VALUE.has(a)) i++;
    else if (!a.startsWith('-') && !a.startsWith('@') && a.endsWith('.rs')) return a;
  }
  return undefined;
}

export function crateCompile(args: readonly string[]): CrateCompile | undefined {
  const crateName = lastValue(args, '--crate-name');
  if (!crateName) return undefined;
  const emits = args.flatMap((a, i) => (a === '--emit' ? [args[i + 1] ?? ''] : a.startsWith('--emit=') ? [a.slice(7)] : []));
  const emit = [...new Set(emits.flatMap((e) => e.split(',')).map((e) => e.split('=')[0]!).filter((e) => e !== ''))].sort().join(',') || 'link';
  const outDir = lastValue(args, '--out-dir') ?? '';
  const partition = createHash('sha256').update(`${outDir}\0${emit}`).digest('hex').slice(0, 12);
  return { crateName, root: crateRoot(args), partition };
}

/**
 * A crate of another repository: its root lies under `external/` (or, with
 * Bazel's sibling repository layout, `../<repo>/`) of the execroot.
 */
export function isExternalCrate(root: string | undefined, pwd: string): boolean {
  if (root === undefined) return false;
  const rel = relative(pwd, resolve(pwd, root));
  return rel.startsWith('external/') || (rel.startsWith('../') && !rel.startsWith('../..'));
}

/** seedwrap's partition names: 12 hex digits (above). */
export const PARTITION = /^[0-9a-f]{12}$/;
/** rustc's crate directories: `<crate>-<stable crate id in base 36>` (crate names have no '-'). */
export const CRATE_DIR = /^[A-Za-z0-9_]+-[0-9a-z]+$/;
/** rustc's sessions: `s-<time>-<random>-<svh>` finished, `s-<time>-<random>-working` in use, each with `s-<time>-<random>.lock`. */
const SESSION = /^s-[0-9a-z]+-[0-9a-z]+-[0-9a-z]+$/;
const SESSION_LOCK = /^s-[0-9a-z]+-[0-9a-z]+\.lock$/;

function lockOf(session: string): string {
  return `${session.slice(0, session.lastIndexOf('-'))}.lock`;
}

/** This crate's real directories in a pinned partition (a link or file of that name is not one). */
export function crateDirNames(part: DirHandle, crateName: string): string[] {
  return listEntries(part).filter((e) => e.kind === 'dir' && CRATE_DIR.test(e.name) && e.name.startsWith(`${crateName}-`) && !e.name.slice(crateName.length + 1).includes('-')).map((e) => e.name);
}

/** Whether rustc left a finished session for this crate (one it may reuse); for the debug line, never following a link. */
export function hasFinishedSession(partitionDir: string, crateName: string): boolean {
  return withDir(partitionDir, (part) => crateDirNames(part, crateName).some((name) => {
    const dir = openSubdir(part, name);
    if (!dir) return false;
    try {
      return listEntries(dir).some((e) => e.kind === 'dir' && SESSION.test(e.name) && !e.name.endsWith('-working'));
    } finally {
      closeDir(dir);
    }
  })) ?? false;
}

/** A fresh name for rename-then-remove in the store's root (swept by eviction if a crash leaves it). */
export function trashName(): string {
  return `.trash-${process.pid}-${randomBytes(4).toString('hex')}`;
}
export const TRASH = /^\.trash-[0-9]+-[0-9a-f]{8}$/;

/** Whether any rustc session of a pinned crate directory is locked by a live rustc right now. */
export function inUse(crate: DirHandle): boolean {
  return listEntries(crate).some((e) => e.kind === 'file' && SESSION_LOCK.test(e.name) && lockState(crate, e.name) !== 'free');
}

/**
 * After an internal compiler error: removes this crate's sessions that no
 * live rustc holds, with their locks, and keeps the working session of a
 * concurrent compile of the same crate (its state is its own: rustc copied
 * it from a finished session when it started). Everything else in the crate
 * directory is left alone. Throws if a session cannot be removed (EPERM,
 * EXDEV): then the retry must not use the store.
 */
export function dropSessions(store: DirHandle, part: DirHandle, crateName: string, note: (line: string) => void): void {
  for (const name of crateDirNames(part, crateName)) {
    const crate = openSubdir(part, name);
    if (!crate) continue;
    try {
      const entries = listEntries(crate);
      const held = new Set<string>();
      for (const e of entries) {
        if (e.kind !== 'file' || !SESSION_LOCK.test(e.name)) continue;
        const state = lockState(crate, e.name);
        // Without flock(1) the damaged session cannot be told from a live one: the retry goes cold instead.
        if (state === 'unknown') throw new Error(`cannot tell whether ${crate.path}/${e.name} is in use (no flock(1))`);
        if (state === 'held') held.add(e.name);
      }
      for (const e of entries) {
        if (!SESSION.test(e.name) || held.has(lockOf(e.name))) continue;
        if (e.kind !== 'dir') {
          note(`${crate.path}/${e.name} is a ${e.kind}; removed as an entry`);
          unlinkEntry(crate, e.name);
          continue;
        }
        const r = renameAndRemove(crate, e.name, store, trashName());
        for (const l of r.left) note(l);
        unlinkEntry(crate, lockOf(e.name));
      }
    } finally {
      closeDir(crate);
    }
  }
}
