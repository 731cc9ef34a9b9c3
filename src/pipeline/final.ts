import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
