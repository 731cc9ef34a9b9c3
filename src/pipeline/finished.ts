import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { replaceFile, takeOwnFile } from '../fsSafe.ts';

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

/** Atomically (fsSafe.replaceFile). Failures only cost the later consumer its shortcut. */
export function leaveMessage(path: string, message: Buffer): void {
  try {
    replaceFile(path, message, 0o600);
  } catch {
    // No message left: the consumer compiles itself.
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
