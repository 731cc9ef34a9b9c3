import * as fs from 'node:fs';
import { createPlacer, type Tally } from './place.ts';
import type { Plan } from './plan.ts';
import { placeChunk, type Chunk, type ChunkJob } from './chunks.ts';
import { maybeYield, SLICE_MS } from './interrupt.ts';

export const { place: placeHere, makeDir: makeDirHere } = createPlacer(fs);

/** A placement's tally, and the bytes it counted (see ChunkJob.countFrom). */
export type Placed = Tally & { bytes: number };

export function newTally(): Placed {
  return { linked: 0, copied: 0, bytes: 0 };
}

export function sizeHere(src: string): number {
  return fs.statSync(src).size;
}

/** The part of the plan placing needs, counting sizes from file `countFrom` on. */
export function jobOf(plan: Plan, countFrom: number): ChunkJob {
  const { names, kinds, realSrcs, groupSrcs, groupRels } = plan;
  return { names, kinds, realSrcs, groupSrcs, groupRels, countFrom };
}

/**
 * Places chunks in this thread, one syscall after another: the fastest form
 * below tens of thousands of files. Yields every SLICE_MS so that a signal can
 * stop it (`signal` is then aborted and the seed fails as interrupted).
 */
export async function runSync(plan: Plan, root: string, chunks: Chunk[], countFrom: number, onChunk?: (files: number) => void, signal?: AbortSignal): Promise<Placed> {
  const tally = newTally();
  const job = jobOf(plan, countFrom);
  let sliceEnd = performance.now() + SLICE_MS;
  for (const chunk of chunks) {
    tally.bytes += placeChunk(job, chunk, root, placeHere, tally, sizeHere);
    onChunk?.(chunk[1] - chunk[0]);
    sliceEnd = await maybeYield(sliceEnd, signal);
  }
  return tally;
}
