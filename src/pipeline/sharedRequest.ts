import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { takeOwnFile } from '../fsSafe.ts';
import type { Sink } from '../wrapper/child.ts';
import { processRustcLine, type RustcOutputFormat } from '../wrapper/rustcOutput.ts';
import { signalExitCode } from '../wrapper/signals.ts';
import { takeMessage } from './finished.ts';
import { decodeFinal, FINAL_MAX_AGE_MS, type Final } from './final.ts';
import { restoreArtifacts } from './outputs.ts';
import { changedInput } from './inputs.ts';
import { decode, type Message } from './message.ts';
import { SharedRustc, type StartShared, type Want } from './shared.ts';
import { request } from './sharedClient.ts';
import type { Rendezvous } from './rendezvous.ts';

export interface Outputs {
  stderr: Sink;
  rawStderr?: Sink;
  onSpawn?: () => void;
}

export interface SharedContext {
  cwd: string;
  /** Where rustc runs when not `cwd` (an executor store's stable cwd): its absolute input paths start there. */
  rustcCwd?: string;
  flat: readonly string[];
  format: RustcOutputFormat;
  /** `<key>.wsock` for requests, and one of its own for the owner (released when rustc ends). */
  rv: Rendezvous;
  ownRv: () => Rendezvous;
  /** The one-shot producer's `<key>.msg` (an rmeta left for a metadata action that comes later). */
  finished: string;
  debug?: (line: string) => void;
  /** The one-shot consumer's steps for a message: checks, the rmeta into place, the replay. */
  useMessage: (m: Message, out: Outputs, from: string) => number | undefined;
}

/**
 * A request of a non-sandboxed worker (shared.ts): take from the live shared
 * rustc of this command, or from what an ended one left, or start it. The
 * exit code when served, undefined to compile as usual.
 */
export async function takeShared(want: Want, ctx: SharedContext, out: Outputs, signal: AbortSignal | undefined, start: StartShared | undefined): Promise<number | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const got = await request(ctx.rv, want, signal);
    if (got.kind === 'cancelled') return signalExitCode(signal?.reason);
    if (got.kind === 'reply') return use(want, got.tag, got.bytes, ctx, out, 'the shared rustc');
    const left = leftBehind(want, ctx);
    if (left !== undefined) return left(out);
    if (start === undefined) return undefined;
    const owner = await SharedRustc.listen(ctx.ownRv(), { cwd: ctx.cwd, rustcCwd: ctx.rustcCwd, args: ctx.flat, finished: ctx.finished, debug: ctx.debug });
    if (owner) {
      ctx.debug?.(`pipeline: starting the shared rustc of this crate for the ${want === 'M' ? 'metadata' : 'full'} request`);
      owner.run(start);
    }
    // else another worker became the owner just now: ask it.
  }
  return undefined;
}

function use(want: Want, tag: string, bytes: Buffer, ctx: SharedContext, out: Outputs, from: string): number | undefined {
  if (tag === 'm' && want === 'M') {
    const m = decode(bytes);
    if ('reason' in m) return void ctx.debug?.(`pipeline: compiling itself: ${m.reason}`);
    return ctx.useMessage(m, out, from);
  }
  if (tag !== 'f') return void ctx.debug?.(`pipeline: compiling itself: reply ${tag}`);
  const f = decodeFinal(bytes);
  if ('reason' in f) return void ctx.debug?.(`pipeline: compiling itself: ${f.reason}`);
  return useFinal(want, f, ctx, out, from);
}

/** rustc's whole stderr through this request's own output handling, its exit code; the outputs Bazel deleted put back. */
function useFinal(want: Want, f: Final, ctx: SharedContext, out: Outputs, from: string): number | undefined {
  const changed = changedInput(f.header.inputs, ctx.cwd);
  if (changed !== undefined) return void ctx.debug?.(`pipeline: compiling itself: input ${changed} is not the file the shared rustc read`);
  // A metadata request gets the whole result only when rustc ended before an rmeta (a compile error).
  if (want === 'M' && f.header.code === 0) return void ctx.debug?.('pipeline: compiling itself: the shared rustc ended without an rmeta');
  if (want === 'F' && !restoreArtifacts(ctx.cwd, f.header.artifacts)) return void ctx.debug?.('pipeline: compiling itself: an output of the shared rustc is gone');
  const stash = f.header.artifacts.find((a) => a.stash !== undefined)?.stash;
  if (want === 'F' && stash !== undefined) rmSync(dirname(stash), { recursive: true, force: true });
  out.onSpawn?.();
  let start = 0;
  for (let nl = f.stderr.indexOf(0x0a); start < f.stderr.length; nl = f.stderr.indexOf(0x0a, start)) {
    const end = nl < 0 ? f.stderr.length : nl + 1;
    const line = f.stderr.subarray(start, end);
    start = end;
    out.rawStderr?.(line);
    const action = processRustcLine(line, ctx.format, want === 'M');
    if (action.kind === 'write') out.stderr(action.bytes);
  }
  ctx.debug?.(`pipeline: took the ${want === 'M' ? 'failed compile' : 'full compile'} (exit ${f.header.code}) from ${from}`);
  return f.header.code;
}

/** No live shared rustc: a metadata request takes the rmeta an ended one left; a full request its whole result, if recent. */
function leftBehind(want: Want, ctx: SharedContext): ((out: Outputs) => number | undefined) | undefined {
  if (want === 'M') {
    const bytes = takeMessage(ctx.finished);
    const m = bytes && decode(bytes);
    return m && !('reason' in m) ? (out) => ctx.useMessage(m, out, 'the shared rustc that ran before') : undefined;
  }
  const bytes = takeDone(ctx.rv.real.replace(/\.wsock$/, '.done'));
  const f = bytes && decodeFinal(bytes);
  return f && !('reason' in f) ? (out) => useFinal(want, f, ctx, out, 'the shared rustc that ran before') : undefined;
}

/** The `.done` result of a shared rustc no full request attached to; taken once, and only within FINAL_MAX_AGE_MS. */
function takeDone(path: string): Buffer | undefined {
  const taken = takeOwnFile(path);
  return taken && Date.now() - taken.st.mtimeMs <= FINAL_MAX_AGE_MS ? taken.bytes : undefined;
}
