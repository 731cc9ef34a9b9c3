import { statSync } from 'node:fs';
import { maybeYield, SLICE_MS } from './interrupt.ts';
import { KIND_LOCK } from './place.ts';
import { sourceOf, type Plan } from './plan.ts';

/**
 * Apparent size (st_size, what `du --apparent-size` counts) of the files the
 * plan will seed, counted only until it reaches `limit`: on a huge tree the
 * answer "at least the threshold" is all we need, and stat costs a syscall.
 * Fresh lock files count as 0. `next` is the first file not counted (the
 * placement counts the rest when an exact total is wanted, chunks.ts).
 * Yields every SLICE_MS (a signal stops it).
 */
export async function countUntil(plan: Plan, limit: number, signal?: AbortSignal): Promise<{ bytes: number; next: number }> {
  let total = 0;
  let sliceEnd = performance.now() + SLICE_MS;
  const ends = [...plan.groups.slice(1), plan.names.length];
  for (let g = 0; g < plan.groups.length; g++) {
    for (let i = plan.groups[g]!; i < ends[g]!; i++) {
      if (total >= limit) return { bytes: total, next: i };
      if (plan.kinds[i] !== KIND_LOCK) total += statSync(sourceOf(plan, g, i)).size;
      if ((i & 1023) === 1023) sliceEnd = await maybeYield(sliceEnd, signal);
    }
  }
  return { bytes: total, next: plan.names.length };
}
