import { isAbsolute, join, resolve } from 'node:path';
import { bazelLayout } from '../bazelLayout.ts';
import { SeedwrapError } from '../errors.ts';

/** Settings of the worker's store (see store/workerHook.ts). */
export interface IncrementalSettings {
  /** Absolute root directory of the cache. */
  root: string;
  /** `--worker-incremental-max-mb`, if given: the store's size cap (SEEDWRAP_STORE_MAX_MB, default in store/settings.ts). */
  maxMb: number | undefined;
}

export interface WorkerFlags {
  incremental: IncrementalSettings | undefined;
  /** Startup flags for every request (process_wrapper's own flags). */
  rest: string[];
}

const DIR_FLAG = '--worker-incremental-dir';
const MAX_FLAG = '--worker-incremental-max-mb';

/**
 * Worker-only startup flags, each taking exactly one value:
 * - `--worker-incremental-dir DIR|auto`: turn on the cache. `auto` is
 *   `<output_base>/seedwrap-incremental`, the output base found from the
 *   worker's cwd (`<output_base>/execroot/<ws>` for a non-sandboxed worker,
 *   `<output_base>/bazel-workers/<worker>/<ws>` for a sandboxed one), so the
 *   cache survives worker restarts and goes away with `bazel clean --expunge`.
 * - `--worker-incremental-max-mb N`: size cap (default 4096).
 */
export function parseWorkerFlags(argv: string[], cwd: string): WorkerFlags {
  const rest: string[] = [];
  let dir: string | undefined;
  let maxMb: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg !== DIR_FLAG && arg !== MAX_FLAG) {
      rest.push(arg);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new SeedwrapError('USAGE', `${arg}: missing value`);
    i++;
    if (arg === DIR_FLAG) {
      if (dir !== undefined) throw new SeedwrapError('USAGE', `${arg} can only appear once`);
      dir = value;
    } else {
      if (maxMb !== undefined) throw new SeedwrapError('USAGE', `${arg} can only appear once`);
      if (!/^\d+$/.test(value)) throw new SeedwrapError('USAGE', `${arg}: expected a whole number of MiB, got '${value}'`);
      maxMb = Number(value);
    }
  }
  if (dir === undefined) {
    if (maxMb !== undefined) throw new SeedwrapError('USAGE', `${MAX_FLAG} needs ${DIR_FLAG}`);
    return { incremental: undefined, rest };
  }
  const root = dir === 'auto' ? join(outputBaseOf(cwd), 'seedwrap-incremental') : isAbsolute(dir) ? dir : resolve(cwd, dir);
  return { incremental: { root, maxMb }, rest };
}

/**
 * `<output_base>` for a worker cwd (`<output_base>/execroot/<ws>` or
 * `<output_base>/bazel-workers/<w>/<ws>`), as bazelLayout.ts validates it;
 * any other cwd has no output base to put `auto` under.
 */
export function outputBaseOf(cwd: string): string {
  const layout = bazelLayout(cwd);
  if (layout.kind === 'unknown') throw new SeedwrapError('USAGE', `${DIR_FLAG} auto: the worker's cwd ${cwd} is not a Bazel execroot or sandboxed-worker directory; give ${DIR_FLAG} an absolute directory`);
  return layout.outputBase;
}

/**
 * For one-shot mode (Bazel's `local`/`sandboxed` strategies run a worker-style
 * action as `seedwrap STARTUP... @flagfile`): drops the worker-only flags and
 * inlines a Bazel worker flagfile, an `@path` argument in flag position whose
 * lines (multiline format: one argument per line, `\r\n` tolerated) are the
 * arguments a worker would have received in WorkRequest.arguments. `@@x` is an
 * escaped literal `@x`, as in Bazel. Arguments after `--` are left to main
 * (rustc param files there are process_wrapper's business).
 */
export function oneShotArgv(argv: readonly string[], cwd: string, read: (path: string) => string): string[] {
  const out: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === DIR_FLAG || arg === MAX_FLAG) {
      i++;
      continue;
    }
    if (arg.startsWith('@@')) out.push(arg.slice(1));
    else if (arg.startsWith('@') && arg.length > 1) {
      const lines = read(resolve(cwd, arg.slice(1))).split('\n');
      if (lines.at(-1) === '') lines.pop();
      for (const line of lines) out.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    } else out.push(arg);
  }
  return [...out, ...argv.slice(i)];
}
