import { SeedwrapError } from '../errors.ts';
import { parseWorkerFlags } from './flags.ts';
import { serve, type RunRequest, type WorkerStreams } from './serve.ts';

export type { RunRequest, WorkerStreams } from './serve.ts';

/**
 * `seedwrap --persistent_worker [STARTUP FLAGS]`: Bazel starts the worker with
 * the arguments that precede the `@flagfile` (seedwrap flags shared by every
 * request) and sends each request's flagfile lines as WorkRequest.arguments.
 * Worker-only flags (`--worker-incremental-*`) are taken out of the startup
 * flags here; the rest prefix every request's argv.
 *
 * Resolves with the exit code; never exits the process.
 */
export async function runWorker(startupArgs: string[], streams: WorkerStreams, run?: RunRequest): Promise<number> {
  let flags;
  try {
    flags = parseWorkerFlags(startupArgs, streams.cwd);
  } catch (err) {
    if (!(err instanceof SeedwrapError)) throw err;
    streams.stderr.write(`seedwrap worker: ${err.message}\n`);
    return err.exitCode;
  }
  const runRequest = run ?? (await import('../wrapper/main.ts')).main;
  const hook = flags.incremental ? (await import('../store/workerHook.ts')).createIncrementalHook(flags.incremental) : undefined;
  // The store's size cap travels to each request like a one-shot action's
  // (src/store/settings.ts). The worker's own flag, given for this worker,
  // wins over an inherited SEEDWRAP_STORE_MAX_MB.
  const maxMb = flags.incremental?.maxMb;
  const env = maxMb !== undefined ? { ...streams.env, SEEDWRAP_STORE_MAX_MB: String(maxMb) } : streams.env;
  const code = await serve({ ...streams, env }, { startupArgs: flags.rest, run: runRequest, hook });
  // A paused stdin after a framing error must not keep the process alive.
  streams.stdin.destroy();
  return code;
}
