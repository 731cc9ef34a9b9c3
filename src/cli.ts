import { SeedwrapError } from './errors.ts';
import { readRegularFile } from './wrapper/lineFile.ts';
import { isHelpOrVersion } from './wrapper/flags.ts';
import { main } from './wrapper/main.ts';
import { FORWARDED_SIGNALS, type ForwardedSignal } from './wrapper/signals.ts';

/**
 * Bazel runs a worker-capable action one-shot under `--strategy=local` or
 * `sandboxed` as `seedwrap STARTUP... @flagfile`: such an argv (an `@` token or
 * a worker-only flag in flag position, both errors in process_wrapper's
 * grammar) is flattened as the worker would have received it.
 */
function isWorkerStyle(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg.startsWith('@') || arg.startsWith('--worker-incremental-')) return true;
  }
  return false;
}

function readFlagfile(path: string): string {
  return readRegularFile(path, `worker flagfile @${path}`).toString('utf8');
}

function flagPosition(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

/** `--persistent_worker` in flag position (before `--`) selects worker mode. */
function isWorker(argv: readonly string[]): boolean {
  return flagPosition(argv).includes('--persistent_worker');
}

/**
 * The outermost layer: picks the mode from argv and binds the real process.
 * Modes other than the plain wrapper are imported lazily, so a rustc action
 * pays only for the wrapper's own code. One-shot mode forwards SIGTERM, SIGINT
 * and SIGHUP to the child (Bazel cancels an action by signalling the wrapper)
 * and exits after it. `seed` cannot clash with process_wrapper usage: a token
 * in flag position that does not start with `--` is an error there.
 */
export async function run(argv: string[]): Promise<number> {
  const controller = new AbortController();
  for (const sig of Object.keys(FORWARDED_SIGNALS) as ForwardedSignal[]) process.on(sig, () => controller.abort(sig));
  const { signal } = controller;
  if (isWorker(argv)) {
    // Bazel never passes these; a person asking gets what they get without --persistent_worker.
    const asked = flagPosition(argv).find(isHelpOrVersion);
    if (asked !== undefined) return main([asked], { cwd: process.cwd(), env: process.env, stdout: 'inherit', stderr: process.stderr, stdin: 'ignore' });
    // Bazel stops a worker with SIGTERM to its pid alone: the worker passes it
    // on to every in-flight rustc so none is orphaned.
    const { runWorker } = await import('./worker/index.ts');
    const startupArgs = argv.filter((a) => a !== '--persistent_worker');
    return runWorker(startupArgs, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, signal });
  }
  const io = { cwd: process.cwd(), env: process.env, stdout: 'inherit', stderr: process.stderr, stdin: 'inherit', signal } as const;
  if (argv[0] === 'seed') {
    const { seedCommand } = await import('./seed/command.ts');
    return seedCommand(argv.slice(1), io);
  }
  if (isWorkerStyle(argv)) {
    const { oneShotArgv } = await import('./worker/flags.ts');
    try {
      argv = oneShotArgv(argv, io.cwd, readFlagfile);
    } catch (err) {
      if (!(err instanceof SeedwrapError)) throw err;
      process.stderr.write(`seedwrap: ${err.message}\n`);
      return err.exitCode;
    }
  }
  return main(argv, io);
}
