import * as fs from 'node:fs';
import { createPlacer, type Tally } from './place.ts';
import type { Plan } from './plan.ts';
import type { Chunk } from './chunks.ts';
import { maybeYield, SLICE_MS } from './interrupt.ts';

export const { place: placeHere, makeDir: makeDirHere } = createPlacer(fs);

export function newTally(): Tally {
  return { linked: 0, copied: 0 };
}

/**
 * Places chunks in this thread, one syscall after another: the fastest form
 * below tens of thousands of files. Yields every SLICE_MS so that a signal can
 * stop it (`signal` is then aborted and the seed fails as interrupted).
 */
export async function runSync(plan: Plan, root: string, chunks: Chunk[], onChunk?: (files: number) => void, signal?: AbortSignal): Promise<Tally> {
  const tally = newTally();
  let sliceEnd = performance.now() + SLICE_MS;
  for (const [start, end] of chunks) {
    for (let i = start; i < end; i++) placeHere(plan.srcs[i]!, `${root}/${plan.rels[i]!}`, plan.kinds[i]!, tally);
    onChunk?.(end - start);
    sliceEnd = await maybeYield(sliceEnd, signal);
  }
  return tally;
}
