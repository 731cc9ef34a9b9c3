import { main } from './main.ts';

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * The outermost layer: picks the mode from argv and binds the real process.
 * One-shot mode forwards SIGTERM/SIGINT/SIGHUP to the child (Bazel cancels an
 * action by signalling the wrapper) and exits after it.
 */
export async function run(argv: string[]): Promise<number> {
  const controller = new AbortController();
  for (const sig of FORWARDED) process.on(sig, () => controller.abort(sig));
  return main(argv, {
    cwd: process.cwd(),
    env: process.env,
    stdout: 'inherit',
    stderr: process.stderr,
    stdin: 'inherit',
    signal: controller.signal,
  });
}
