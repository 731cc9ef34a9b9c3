import { statSync } from 'node:fs';
import { maybeYield, SLICE_MS } from './interrupt.ts';
import { KIND_LOCK } from './place.ts';
import type { Plan } from './plan.ts';

/**
 * Apparent size (st_size, what `du --apparent-size` counts) of the files the
 * plan will seed, counted only until it reaches `limit`: on a huge tree the
 * answer "at least the threshold" is all we need, and stat costs a syscall.
 * Fresh lock files count as 0. Yields every SLICE_MS (a signal stops it).
 */
export async function sizeAtLeast(plan: Plan, limit: number, signal?: AbortSignal): Promise<number> {
  let total = 0;
  let sliceEnd = performance.now() + SLICE_MS;
  for (let i = 0; i < plan.srcs.length && total < limit; i++) {
    if (plan.kinds[i] !== KIND_LOCK) total += statSync(plan.srcs[i]!).size;
    if ((i & 1023) === 1023) sliceEnd = await maybeYield(sliceEnd, signal);
  }
  return total;
}
