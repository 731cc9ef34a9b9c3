import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { SeedwrapError, describe } from '../errors.ts';
import type { Io } from '../io.ts';
import type { WorkRequest } from './messages.ts';
import { RequestOutput } from './output.ts';
import type { RequestHook, RunRequest, WorkerStreams } from './serve.ts';

export const PREFIX = 'seedwrap worker:';

/** What one request needs from the loop. */
export interface RequestContext {
  streams: WorkerStreams;
  startupArgs: string[];
  run: RunRequest;
  hook: RequestHook | undefined;
  log: (line: string) => void;
  verbose: boolean;
  protocolName: string;
}

/**
 * Runs one request through the core with its own Io: output collected into
 * the response, stdin ignored, cwd = sandbox_dir (resolved against the
 * worker's cwd) when given, `signal` for cancel. Never throws: an error
 * becomes the exit code and a line in the output.
 */
export async function executeRequest(req: WorkRequest, signal: AbortSignal, ctx: RequestContext): Promise<{ exitCode: number; output: string }> {
  const id = req.requestId;
  const started = performance.now();
  const output = new RequestOutput();
  const cwd = req.sandboxDir === '' ? ctx.streams.cwd : resolve(ctx.streams.cwd, req.sandboxDir);
  let code = 1;
  try {
    if (req.sandboxDir !== '') checkSandboxDir(req.sandboxDir, cwd);
    let argv = [...ctx.startupArgs, ...req.arguments];
    if (ctx.hook) argv = ctx.hook.prepare(argv, cwd);
    if (ctx.verbose) ctx.log(`request ${id} (${ctx.protocolName}) start in ${cwd}: ${JSON.stringify(argv)}`);
    if (!signal.aborted) {
      const io: Io = { cwd, env: ctx.streams.env, stdout: output.stdout, stderr: output.stderr, stdin: 'ignore', signal, sharedRustc: req.sandboxDir === '' };
      code = await ctx.run(argv, io);
    }
  } catch (err) {
    code = err instanceof SeedwrapError ? err.exitCode : 1;
    if (err instanceof SeedwrapError) output.note(`seedwrap: ${err.message}`);
    else {
      output.note(`${PREFIX} internal error: ${describeError(err)}`);
      ctx.log(`request ${id}: internal error: ${describeError(err)}`);
    }
  }
  if (ctx.verbose) {
    const ms = (performance.now() - started).toFixed(1);
    ctx.log(`request ${id} ${signal.aborted ? 'aborted' : `exit ${code}`} after ${ms} ms`);
  }
  return { exitCode: code, output: output.text() };
}

/** A missing sandbox_dir was reported as ENOENT on the program (spawn's cwd). */
function checkSandboxDir(given: string, path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new SeedwrapError('INPUT', `sandbox_dir ${given}: cannot use ${path}: ${describe(err)}`, { cause: err });
  }
  if (!st.isDirectory()) throw new SeedwrapError('INPUT', `sandbox_dir ${given}: ${path} is not a directory`);
}

export function describeError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
