import { describe } from '../errors.ts';
import { processRustcLine, type LineAction, type RustcOutputFormat } from '../wrapper/rustcOutput.ts';
import { signalExitCode } from '../wrapper/signals.ts';
import { check, receive, writeRmeta } from './consumer.ts';
import { takeMessage } from './finished.ts';
import { decode, type Message } from './message.ts';
import type { StartShared } from './shared.ts';
import { writableOutputs } from './outputs.ts';
import { takeShared, type Outputs, type SharedContext } from './sharedRequest.ts';
import { Producer } from './producer.ts';
import { flatArgs, rendezvousDir, rendezvousKey, sandboxDirOf, socketIn, type Rendezvous } from './rendezvous.ts';

/**
 * One rustc per crate under pipelining (docs/pipelining.md). rules_rust runs a
 * pipelined library as two actions with the same rustc command: `Rustc` (the
 * full compile) and `RustcMetadata` (`--rustc-quit-on-rmeta true`). When the
 * full compile is running, the metadata action takes the rmeta and the
 * diagnostics before it from that rustc instead of running the front end a
 * second time; otherwise it compiles itself, as it always did.
 */
export interface Pipeline {
  /**
   * The metadata action's exit code when a running full compile served it
   * (its rmeta written, its diagnostics replayed into the sinks), or
   * undefined: compile as usual. Always undefined for a full compile.
   */
  take(out: Outputs, signal?: AbortSignal, start?: StartShared): Promise<number | undefined>;
  /** A non-sandboxed worker's request served by the shared rustc: the store's retries and upkeep ran there. */
  shared?: boolean;
  /** The full compile's line hook for child.ts. */
  onLine?: (line: Buffer, kind: LineAction['kind']) => void;
  /** After the child (or instead of it): the producer stops listening. */
  close(): void;
}

export interface PipelineContext {
  /** The child's argv as it will run (store rewrites included). */
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd: string;
  /** Where rustc runs: the stable cwd inside the action's namespace, or `cwd` itself. */
  rustcCwd?: string;
  /** The store's root when the store is active: the rendezvous lives under it. */
  storeRoot: string | undefined;
  format: RustcOutputFormat;
  quitOnRmeta: boolean;
  inheritedEnv: Record<string, string | undefined>;
  /** A request of a worker that is not sandboxed: both requests of a crate may share one rustc (shared.ts). */
  shared?: boolean;
  warn: (line: string) => void;
  debug?: (line: string) => void;
}

export function preparePipeline(ctx: PipelineContext): Pipeline | undefined {
  const place = rendezvousDir(ctx.storeRoot, ctx.inheritedEnv);
  if (place === undefined) return undefined;
  if ('reason' in place) {
    // The store says itself when it cannot be used; a directory the user named deserves a line.
    const line = `pipelining: ${place.reason}; the metadata and full compiles each run rustc`;
    place.userSet ? ctx.warn(line) : ctx.debug?.(line);
    return undefined;
  }
  let flat: string[];
  let rv: Rendezvous;
  try {
    flat = flatArgs(ctx.args, ctx.cwd);
    if (!reportsMetadata(flat)) return undefined;
    rv = socketIn(place.dir, rendezvousKey(flat, ctx.env, ctx.cwd));
  } catch (err) {
    // Pipelining is an optimisation: whatever fails here, the action compiles as it always did.
    ctx.debug?.(`pipelining: off for this action: ${describe(err)}`);
    return undefined;
  }
  ctx.debug?.(`pipeline: ${ctx.quitOnRmeta ? 'metadata action' : 'full compile'} at ${rv.real}`);
  const useMessage = (m: Message, out: Outputs, from: string): number | undefined => {
    const ok = check(m, ctx.format, ctx.cwd);
    if ('reason' in ok) return void ctx.debug?.(`pipeline: compiling itself: ${ok.reason}`);
    try {
      writeRmeta(ctx.cwd, ok.artifact, m.rmeta);
    } catch (err) {
      return void ctx.debug?.(`pipeline: compiling itself: cannot write ${ok.artifact}: ${describe(err)}`);
    }
    // From here on, exactly what runChild does with these lines under --rustc-quit-on-rmeta.
    out.onSpawn?.();
    for (const line of ok.lines) {
      out.rawStderr?.(line);
      const action = processRustcLine(line, ctx.format, true);
      if (action.kind === 'write') out.stderr(action.bytes);
    }
    ctx.debug?.(`pipeline: took the rmeta ${ok.artifact} (${m.rmeta.length} bytes) from ${from}`);
    return 0;
  };
  if (ctx.shared && sandboxDirOf(ctx.cwd) === undefined) {
    // A non-sandboxed worker: one rustc for both requests, whichever comes first (shared.ts).
    const key = rv.real.slice(place.dir.length + 1, -'.sock'.length);
    const shared: SharedContext = { cwd: ctx.cwd, rustcCwd: ctx.rustcCwd, flat, format: ctx.format, rv: socketIn(place.dir, key, 'wsock'), ownRv: () => socketIn(place.dir, key, 'wsock'), finished: rv.finished, debug: ctx.debug, useMessage };
    const release = () => {
      rv.release();
      shared.rv.release();
    };
    return {
      shared: true,
      async take(out, signal, start) {
        try {
          const code = await takeShared(ctx.quitOnRmeta ? 'M' : 'F', shared, out, signal, start);
          // Compiling itself in the execroot meets the last build's read-only outputs as the shared rustc would.
          if (code === undefined) writableOutputs(ctx.cwd, flat);
          return code;
        } finally {
          release();
        }
      },
      close: release,
    };
  }
  if (!ctx.quitOnRmeta) {
    const producer = new Producer(rv, { cwd: ctx.cwd, rustcCwd: ctx.rustcCwd, args: flat, leak: sandboxDirOf(ctx.cwd), debug: ctx.debug });
    producer.start();
    return { take: async () => undefined, onLine: producer.onLine, close: () => producer.close() };
  }
  return {
    async take(out, signal) {
      try {
        let got = await receive(rv, signal, ctx.debug);
        if (got.kind === 'cancelled') return signalExitCode(signal?.reason);
        let from = 'the running full compile';
        if (got.kind === 'none' && got.live === false) {
          // No producer now: perhaps one that finished left its rmeta (finished.ts).
          const left = takeMessage(rv.finished);
          const m = left && decode(left);
          if (m && !('reason' in m)) {
            got = { kind: 'message', message: m };
            from = 'the full compile that ran before';
          }
        }
        if (got.kind === 'none') return void ctx.debug?.(`pipeline: compiling itself: ${got.reason}`);
        return useMessage(got.message, out, from);
      } finally {
        rv.release();
      }
    },
    close: () => rv.release(),
  };
}

/** `--emit` with metadata and `--json` with artifacts: only then does rustc report the rmeta. */
function reportsMetadata(args: readonly string[]): boolean {
  let emit = false;
  let artifacts = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (flag: string) => (a === flag ? args[i + 1] : a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : undefined);
    emit ||= value('--emit')?.split(',').some((k) => k.split('=')[0] === 'metadata') ?? false;
    artifacts ||= value('--json')?.split(',').includes('artifacts') ?? false;
  }
  return emit && artifacts;
}
