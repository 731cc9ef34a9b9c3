/**
 * The signals the wrapper forwards, with their Linux numbers. A literal table
 * rather than `node:os`'s `constants.signals`: every rustc action pays for
 * each module the one-shot path loads (docs/benchmarks.md).
 */
export const FORWARDED_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
export type ForwardedSignal = keyof typeof FORWARDED_SIGNALS;

export function isForwardedSignal(reason: unknown): reason is ForwardedSignal {
  return typeof reason === 'string' && Object.hasOwn(FORWARDED_SIGNALS, reason);
}

/** 128+n for a forwarded signal (as a shell reports it), 1 for any other abort. */
export function signalExitCode(reason: unknown): number {
  return isForwardedSignal(reason) ? 128 + FORWARDED_SIGNALS[reason] : 1;
}
