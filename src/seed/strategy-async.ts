import { link } from 'node:fs/promises';
import { KIND_LINK, KIND_LOCK } from './place.ts';
import { sourceOf, type Plan } from './plan.ts';
import type { Chunk } from './chunks.ts';
import { newTally, placeHere, sizeHere, type Placed } from './strategy-sync.ts';
import { checkInterrupted } from './interrupt.ts';

/**
 * libuv's thread pool with `limit` operations in flight (the bounded-async
 * form; a counter instead of p-limit, which would be one more import on every
 * action). Measured slower than the synchronous loop on 2 cores
 * (docs/seeding.md); kept so the benchmark keeps measuring it. Anything but a
 * plain link (fallbacks, own inodes, locks) goes through the synchronous placer.
 */
export async function runAsync(plan: Plan, root: string, chunks: Chunk[], countFrom: number, limit = 16, onFile?: () => void, signal?: AbortSignal): Promise<Placed> {
  const tally = newTally();
  const files = filesOf(chunks);
  async function lane(): Promise<void> {
    for (let f = files.next(); !f.done; f = files.next()) {
      checkInterrupted(signal);
      const [g, i] = f.value;
      const src = sourceOf(plan, g, i);
      if (i >= countFrom && plan.kinds[i] !== KIND_LOCK) tally.bytes += sizeHere(src); // a lock file counts 0
      const rel = plan.groupRels[g]!;
      await placeOne(src, `${root}/${rel === '' ? '' : `${rel}/`}${plan.names[i]!}`, plan.kinds[i]!, tally);
      onFile?.();
    }
  }
  // Every lane is waited for before a failure or an interruption is passed on:
  // Promise.all would reject at the first, while the other lanes' links are
  // still in flight and land in the staging tree after abandon() removed it
  // (a staging directory was left after SIGTERM in CI).
  const lanes = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limit, plan.names.length)) }, lane));
  const failed = lanes.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return tally;
}

/** Every file as [group, index], shared by the lanes (each takes the next one between its awaits). */
function* filesOf(chunks: Chunk[]): Generator<[number, number]> {
  for (const [start, end, g] of chunks) for (let i = start; i < end; i++) yield [g, i];
}

async function placeOne(src: string, dst: string, kind: number, tally: Placed): Promise<void> {
  if (kind === KIND_LINK) {
    const linked = await link(src, dst).then(() => true, () => false);
    if (linked) {
      tally.linked++;
      return;
    }
    // Not linkable here: the synchronous placer applies the named fallbacks
    // (or throws the real error).
  }
  placeHere(src, dst, kind, tally);
}
