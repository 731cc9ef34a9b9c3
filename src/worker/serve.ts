import type { Readable, Writable } from 'node:stream';
import type { Io } from '../io.ts';
import { FrameWriter } from './frame-writer.ts';
import { FramingError, RequestError, type WorkRequest, type WorkResponse } from './messages.ts';
import { AutoProtocol } from './protocol.ts';
import { FORWARDED_SIGNALS, isForwardedSignal } from '../wrapper/signals.ts';
import { describeError, executeRequest, PREFIX } from './request.ts';

/** The process streams the worker talks over, plus what each request inherits. */
export interface WorkerStreams {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  cwd: string;
  env: Record<string, string | undefined>;
  /**
   * Aborted when the worker itself is told to stop (SIGTERM from Bazel on
   * shutdown): every in-flight child is killed, no more requests are read,
   * and the loop resolves once the cancelled requests have answered.
   */
  signal?: AbortSignal;
}

/** One-shot mode's core: `main(argv, io)`. Injected so the loop is testable alone. */
export type RunRequest = (argv: string[], io: Io) => Promise<number>;

/** Rewrites a request's argv before it runs (the worker-local incremental cache). */
/** Rewrites a request's command line before it runs (the worker's store adds `-Cincremental`). */
export interface RequestHook {
  prepare(argv: string[], cwd: string): string[];
}

export interface ServeOptions {
  startupArgs: string[];
  run: RunRequest;
  hook?: RequestHook;
}

interface InFlight {
  controller: AbortController;
  cancelled: boolean;
}

/**
 * The request loop: decode requests from stdin, run each through `run`
 * concurrently (multiplex) or one after another (request_id 0), answer each
 * exactly once. Resolves with the worker's exit code after stdin ends and all
 * in-flight requests have answered: 0, 1 after a framing error or a broken
 * stdout, 128+n after a shutdown by signal n (see WorkerStreams.signal).
 */
export function serve(streams: WorkerStreams, options: ServeOptions): Promise<number> {
  const protocol = new AutoProtocol();
  const inFlight = new Map<number, InFlight>();
  const running = new Set<Promise<void>>();
  let singleplex: Promise<void> = Promise.resolve();
  let exitCode = 0;
  let stopped = false;
  /** Set when the worker must not start children any more (shutdown, broken stdout). */
  let halted: { reason: unknown } | undefined;
  const log = (line: string) => streams.stderr.write(`${PREFIX} ${line}\n`);
  // Bazel 4.2.3 never sets `verbosity` (newer Bazel sets it for --worker_verbose);
  // process_wrapper's debug variable turns the same logging on.
  const debugEnv = streams.env.RULES_RUST_PROCESS_WRAPPER_DEBUG !== undefined;

  const writer = new FrameWriter(streams.stdout, (err) => {
    log(`cannot write responses (${err.message}); cancelling in-flight requests and exiting`);
    exitCode = 1;
    halt(undefined);
  });

  function halt(reason: unknown): void {
    halted = { reason };
    for (const f of inFlight.values()) f.controller.abort(reason);
    stop();
  }

  function answer(res: WorkResponse): void {
    writer.write(protocol.encode(res));
  }

  async function runOne(req: WorkRequest): Promise<void> {
    const id = req.requestId;
    const entry: InFlight = { controller: new AbortController(), cancelled: false };
    inFlight.set(id, entry);
    // A singleplex request queued behind another must not start after a halt.
    if (halted) entry.controller.abort(halted.reason);
    const ctx = {
      streams,
      startupArgs: options.startupArgs,
      run: options.run,
      hook: options.hook,
      log,
      verbose: req.verbosity > 0 || debugEnv,
      protocolName: protocol.name ?? '?',
    };
    const result = await executeRequest(req, entry.controller.signal, ctx);
    inFlight.delete(id);
    answer(
      entry.cancelled
        ? { exitCode: 0, output: '', requestId: id, wasCancelled: true }
        : { ...result, requestId: id, wasCancelled: false },
    );
  }

  function track(p: Promise<void>): void {
    running.add(p);
    void p.finally(() => running.delete(p));
  }

  function dispatch(req: WorkRequest): void {
    const id = req.requestId;
    if (req.cancel) {
      const f = inFlight.get(id);
      if (req.verbosity > 0 || debugEnv) log(`cancel for request ${id}${f ? '' : ' (not running; ignored)'}`);
      if (f && !f.cancelled) {
        f.cancelled = true;
        f.controller.abort();
      }
      return;
    }
    if (id !== 0 && inFlight.has(id)) {
      log(`request ${id} arrived while a request with that id is still running; answering it with an error`);
      answer({ exitCode: 1, output: `${PREFIX} duplicate request_id ${id}\n`, requestId: id, wasCancelled: false });
      return;
    }
    if (id === 0) {
      // Singleplex requests must run alone; Bazel sends one at a time anyway.
      const next = singleplex.then(() => runOne(req));
      singleplex = next;
      track(next);
    } else {
      track(runOne(req));
    }
  }

  function onItem(item: WorkRequest | Error): void {
    if (!(item instanceof Error)) return dispatch(item);
    if (item instanceof RequestError && item.requestId !== undefined) {
      log(`request ${item.requestId}: ${item.message}`);
      answer({ exitCode: 1, output: `${PREFIX} ${item.message}\n`, requestId: item.requestId, wasCancelled: false });
      return;
    }
    const kind = protocol.name ?? 'unknown-protocol';
    const what = item instanceof FramingError || item instanceof RequestError ? item.message : describeError(item);
    log(`malformed ${kind} request on stdin: ${what}. The stream cannot be resynchronised; finishing in-flight requests and exiting.`);
    exitCode = 1;
    stop();
  }

  let finish: () => void = () => {};
  const done = new Promise<number>((resolveDone) => {
    finish = () => {
      void (async () => {
        while (running.size > 0) await Promise.allSettled([...running]);
        await writer.flush();
        resolveDone(exitCode);
      })();
    };
  });

  function stop(): void {
    if (stopped) return;
    stopped = true;
    streams.stdin.off('data', onData);
    streams.stdin.pause();
    finish();
  }

  function onData(chunk: Buffer): void {
    if (stopped) return;
    for (const item of protocol.push(chunk)) {
      onItem(item);
      if (stopped) return;
    }
  }

  const onShutdown = () => {
    // A signal name as the reason ('SIGTERM') is forwarded to each child by
    // main, and the worker then reports 128+n as a signal death would.
    const reason: unknown = streams.signal?.reason;
    const signo = isForwardedSignal(reason) ? FORWARDED_SIGNALS[reason] : undefined;
    log(`shutting down${signo ? ` on ${String(reason)}` : ''}: cancelling ${inFlight.size} in-flight request(s)`);
    if (signo !== undefined) exitCode = 128 + signo;
    halt(reason);
  };
  if (streams.signal?.aborted) onShutdown();
  else streams.signal?.addEventListener('abort', onShutdown, { once: true });
  void done.then(() => streams.signal?.removeEventListener('abort', onShutdown));

  streams.stdin.on('data', onData);
  streams.stdin.once('end', () => {
    if (!stopped) {
      for (const item of protocol.end()) {
        onItem(item);
        if (stopped) break;
      }
    }
    const pending = protocol.pendingAtEof();
    if (pending !== undefined && !stopped) {
      log(`malformed request on stdin: ${pending}`);
      exitCode = 1;
    }
    stop();
  });
  streams.stdin.once('error', (err: Error) => {
    log(`cannot read requests: ${err.message}`);
    exitCode = 1;
    stop();
  });
  return done;
}
