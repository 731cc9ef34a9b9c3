import { chmodSync, constants, copyFileSync, linkSync, lstatSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FinalHeader } from './final.ts';

/**
 * The shared rustc's artifacts on disk (shared.ts): hard links taken as rustc
 * reports them, put back where Bazel deleted them, and the last build's
 * read-only outputs out of rustc's way.
 */

/** A hard link of a just-reported artifact (rustc renamed it into place before reporting it); a copy across devices. */
export function stashArtifact(cwd: string, artifact: string, dir: string, n: number): string | undefined {
  const dest = join(dir, String(n));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    linkOrCopy(resolve(cwd, artifact), dest);
    return dest;
  } catch {
    return undefined;
  }
}

/**
 * Puts back the artifacts Bazel deleted before it sent the request; one that
 * is there is left alone. False when one is missing and was not stashed.
 */
export function restoreArtifacts(cwd: string, artifacts: FinalHeader['artifacts']): boolean {
  for (const a of artifacts) {
    const path = resolve(cwd, a.path);
    if (exists(path)) continue;
    if (a.stash === undefined) return false;
    try {
      linkOrCopy(a.stash, path);
    } catch {
      return false;
    }
  }
  return true;
}

/** EXDEV: the stash (under the store or SEEDWRAP_PIPELINE_DIR) on another file system than the execroot. */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(from, to, constants.COPYFILE_EXCL);
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Bazel makes every output read-only after its action, and rustc refuses to
 * start when an output it will write exists read-only ("output file … is not
 * writeable"; the same failure rules_rust has with pipelining under
 * --spawn_strategy=local). In a rebuild the shared rustc, started by one
 * request, writes the other action's outputs too, whose last build's files
 * Bazel has not deleted yet (it deletes them only before that action's own
 * request). rustc replaces each by a rename, so giving the owner write
 * permission back is enough; nothing is deleted.
 */
export function writableOutputs(cwd: string, args: readonly string[]): void {
  const value = (flag: string) => {
    for (let i = args.length - 1; i >= 0; i--) {
      const a = args[i]!;
      if (a === flag) return args[i + 1];
      if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
    }
    return undefined;
  };
  const codegen = (name: string) => {
    for (let i = args.length - 1; i >= 0; i--) {
      const a = args[i]!;
      const v = a === '-C' || a === '--codegen' ? args[i + 1] : a.startsWith('-C') ? a.slice(2) : a.startsWith('--codegen=') ? a.slice('--codegen='.length) : undefined;
      if (v?.startsWith(`${name}=`)) return v.slice(name.length + 1);
    }
    return undefined;
  };
  const dir = value('--out-dir');
  const crate = value('--crate-name');
  if (dir === undefined || crate === undefined) return;
  const stem = `${crate}${codegen('extra-filename') ?? ''}`;
  for (const name of [`lib${stem}.rlib`, `lib${stem}.rmeta`, `${stem}.d`]) {
    const path = resolve(cwd, dir, name);
    try {
      const st = lstatSync(path);
      if (st.isFile() && (st.mode & 0o222) === 0) chmodSync(path, (st.mode & 0o7777) | 0o200);
    } catch {
      // not there: nothing in rustc's way
    }
  }
}
