import { constants, copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
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
