import { chmodSync, constants, copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { InputIds } from './inputs.ts';

/**
 * What the worker's shared rustc (shared.ts) leaves when it ends: its exit
 * code, every raw stderr line, the files it read (their identities) and the
 * artifacts it reported, each hard-linked into a private stash as it was
 * reported. Bazel deletes an action's declared outputs before it runs it, so a
 * full request that comes after the rustc wrote its rlib finds it deleted; the
 * stash gives it back. `u32 BE header length | header JSON | stderr`.
 */
export interface FinalHeader {
  v: 1;
  code: number;
  stderr: number;
  inputs: InputIds;
  /** Relative to the worker's cwd; `stash` when a link (or copy) of it was kept. */
  artifacts: Array<{ path: string; stash?: string }>;
  /** rustc wrote a line that is not JSON (an ICE's panic): each request compiles itself. */
  unshareable?: string;
}

export interface Final {
  header: FinalHeader;
  stderr: Buffer;
}

export function encodeFinal(f: Final): Buffer {
  const head = Buffer.from(JSON.stringify(f.header));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(head.length);
  return Buffer.concat([len, head, f.stderr]);
}

export function decodeFinal(bytes: Buffer): Final | { reason: string } {
  if (bytes.length < 4) return { reason: 'the shared rustc ended without a result' };
  const headLen = bytes.readUInt32BE(0);
  let header: FinalHeader;
  try {
    header = JSON.parse(bytes.subarray(4, 4 + headLen).toString('utf8')) as FinalHeader;
  } catch {
    return { reason: 'unreadable result header' };
  }
  if (header.v !== 1) return { reason: `result version ${String(header.v)}` };
  if (header.unshareable !== undefined) return { reason: `the shared rustc cannot share: ${header.unshareable}` };
  if (bytes.length !== 4 + headLen + header.stderr) return { reason: `result of ${bytes.length} bytes, expected ${4 + headLen + header.stderr}` };
  return { header, stderr: bytes.subarray(4 + headLen) };
}

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

/** Results no full request took within this time are not taken any more, and swept. */
export const FINAL_MAX_AGE_MS = 10 * 60_000;

/** `<key>.done` files and `<key>.out.*` stashes older than FINAL_MAX_AGE_MS. */
export function sweepFinals(dir: string, now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith('.done') && !name.includes('.out.')) continue;
    try {
      if (now - statSync(join(dir, name)).mtimeMs > FINAL_MAX_AGE_MS) rmSync(join(dir, name), { recursive: true, force: true });
    } catch {
      // taken or swept meanwhile
    }
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
