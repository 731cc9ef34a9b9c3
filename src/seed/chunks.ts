import type { Plan } from './plan.ts';

/** [start, end) ranges of plan files. */
export type Chunk = [number, number];

/**
 * Splits the plan by directory: link(2) takes the directory's lock, so two
 * threads linking into one directory mostly wait for each other. A directory
 * with more than `max` files is cut into pieces so one huge directory cannot
 * leave the other thread idle.
 */
export function chunksByDirectory(plan: Plan, max = 1024): Chunk[] {
  const chunks: Chunk[] = [];
  const starts = [...plan.groups, plan.srcs.length];
  for (let g = 0; g + 1 < starts.length; g++) {
    const end = starts[g + 1]!;
    for (let at = starts[g]!; at < end; at += max) chunks.push([at, Math.min(end, at + max)]);
  }
  return chunks;
}

/**
 * The directory (relative to DEST, '' for DEST itself) a chunk's files go
 * into: all of a chunk's files share it. Self-contained: workers run its source.
 */
export function chunkDir(rels: readonly string[], chunk: Chunk): string {
  const rel = rels[chunk[0]]!;
  return rel.slice(0, Math.max(0, rel.lastIndexOf('/')));
}
