import { SeedwrapError } from '../errors.ts';

/**
 * A placement loop runs at most this long before yielding one event-loop turn:
 * signal handlers (Ctrl-C, Bazel cancelling an action with SIGTERM) are
 * macrotasks and would otherwise wait for the whole seed.
 */
export const SLICE_MS = 20;

/** One turn of the event loop: libuv delivers a pending signal in the poll phase, before setImmediate's check phase. */
export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Throws the seed's "interrupted" error if `signal` was aborted (its reason is the signal's name). */
export function checkInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SeedwrapError('SEED', `interrupted by ${String(signal.reason)}`, { cause: signal.reason });
}

/** Yields when the current slice is used up; returns the end of the next slice. */
export async function maybeYield(sliceEnd: number, signal: AbortSignal | undefined): Promise<number> {
  if (performance.now() < sliceEnd) return sliceEnd;
  await yieldTurn();
  checkInterrupted(signal);
  return performance.now() + SLICE_MS;
}
