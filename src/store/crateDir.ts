import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { isSystemError } from '../errors.ts';

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

/** This crate's directories in the partition: `<crate>-<id>` (crate names have no '-'). */
export function crateDirs(partitionDir: string, crateName: string): string[] {
  return listDir(partitionDir).filter((n) => n.startsWith(`${crateName}-`) && !n.slice(crateName.length + 1).includes('-')).map((n) => join(partitionDir, n));
}

/** Whether rustc left a finished session for this crate (one it may reuse). */
export function hasFinishedSession(partitionDir: string, crateName: string): boolean {
  return crateDirs(partitionDir, crateName).some((d) => listDir(d).some((n) => n.startsWith('s-') && !n.endsWith('.lock') && !n.endsWith('-working')));
}

/** Removes a directory: renamed away first, so a crash leaves trash, never half a crate. */
export function removeDir(dir: string, storeRoot: string): void {
  const trash = join(storeRoot, `.trash-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    renameSync(dir, trash);
  } catch (err) {
    if (isSystemError(err, 'ENOENT')) return;
    throw err;
  }
  rmSync(trash, { recursive: true, force: true });
}

export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (isSystemError(err, 'ENOENT', 'ENOTDIR')) return [];
    throw err;
  }
}
