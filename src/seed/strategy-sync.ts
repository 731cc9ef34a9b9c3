import * as fs from 'node:fs';
import { createPlacer, type Tally } from './place.ts';
import type { Plan } from './plan.ts';
import type { Chunk } from './chunks.ts';

export const placeHere = createPlacer(fs);

export function newTally(): Tally {
  return { linked: 0, copied: 0 };
}

/** Places chunks in this thread, one syscall after another: the fastest form for small trees. */
export function runSync(plan: Plan, root: string, chunks: Chunk[], onChunk?: (files: number) => void): Tally {
  const tally = newTally();
  for (const [start, end] of chunks) {
    for (let i = start; i < end; i++) placeHere(plan.srcs[i]!, `${root}/${plan.rels[i]!}`, plan.kinds[i]!, tally);
    onChunk?.(end - start);
  }
  return tally;
}
