import { link } from 'node:fs/promises';
import { KIND_LINK, type Tally } from './place.ts';
import type { Plan } from './plan.ts';
import { newTally, placeHere } from './strategy-sync.ts';
import { checkInterrupted } from './interrupt.ts';

/**
 * libuv's thread pool with `limit` operations in flight (the bounded-async
 * form; a counter instead of p-limit, which would be one more import on every
 * action). Measured slower than the synchronous loop on 2 cores
 * (docs/seeding.md); kept so the benchmark keeps measuring it. Anything but a
 * plain link (fallbacks, own inodes, locks) goes through the synchronous placer.
 */
export async function runAsync(plan: Plan, root: string, limit = 16, onFile?: () => void, signal?: AbortSignal): Promise<Tally> {
  const tally = newTally();
  let next = 0;
  async function lane(): Promise<void> {
    while (next < plan.srcs.length) {
      checkInterrupted(signal);
      await placeOne(plan, root, next++, tally);
      onFile?.();
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, plan.srcs.length)) }, lane));
  return tally;
}

async function placeOne(plan: Plan, root: string, i: number, tally: Tally): Promise<void> {
  const src = plan.srcs[i]!;
  const dst = `${root}/${plan.rels[i]!}`;
  if (plan.kinds[i] === KIND_LINK) {
    const linked = await link(src, dst).then(() => true, () => false);
    if (linked) {
      tally.linked++;
      return;
    }
    // Not linkable here: the synchronous placer applies the named fallbacks
    // (or throws the real error).
  }
  placeHere(src, dst, plan.kinds[i]!, tally);
}
