import { closeSync, constants, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { takeOwnFile } from '../fsSafe.ts';

/**
 * The rmeta outlives its producer. Bazel 4.2.3 often runs a crate's
 * `RustcMetadata` only after its `Rustc` has ended (measured with --jobs=2:
 * both are ready together, the full compile is started first, and the
 * metadata action waits for a free slot; under --jobs=1 always). The
 * producer therefore also leaves its message, final once rustc reported the
 * rmeta, in `<key>.msg`; a metadata action that finds no live producer takes
 * it from there, with the same checks (input identities, hash), and removes
 * it. Nothing waits: the file is there or not.
 */

/** Older messages are swept by the next producer: a metadata action that never came (an action-cache hit, an unused rmeta). */
const MAX_AGE_MS = 24 * 3600_000;

/** Atomically: a new file beside it (O_EXCL, never through a symlink), then a rename. Failures only cost the later consumer its shortcut. */
export function leaveMessage(path: string, message: Buffer): void {
  const temp = `${path}.${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      for (let off = 0; off < message.length; ) off += writeSync(fd, message, off);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch {
    removeQuietly(temp);
  }
  sweep(dirname(path));
}

/** The message a finished producer left, taken (removed) so that it serves one metadata action; undefined if none. */
export function takeMessage(path: string): Buffer | undefined {
  return takeOwnFile(path)?.bytes;
}

function sweep(dir: string): void {
  const now = Date.now();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.includes('.msg')) continue;
    try {
      if (now - statSync(join(dir, name)).mtimeMs > MAX_AGE_MS) unlinkSync(join(dir, name));
    } catch {
      // taken or swept by another action meanwhile
    }
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
