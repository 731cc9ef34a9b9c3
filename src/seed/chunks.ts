import type { Plan } from './plan.ts';

/** [start, end) ranges of plan files, and the group (directory) they all belong to. */
export type Chunk = [number, number, number];

/**
 * Splits the plan by directory: link(2) takes the directory's lock, so two
 * threads linking into one directory mostly wait for each other. A directory
 * with more than `max` files is cut into pieces so one huge directory cannot
 * leave the other thread idle.
 */
export function chunksByDirectory(plan: Plan, max = 1024): Chunk[] {
  const chunks: Chunk[] = [];
  const starts = [...plan.groups, plan.names.length];
  for (let g = 0; g + 1 < starts.length; g++) {
    const end = starts[g + 1]!;
    for (let at = starts[g]!; at < end; at += max) chunks.push([at, Math.min(end, at + max), g]);
  }
  return chunks;
}

/** The directory (relative to DEST, '' for DEST itself) a chunk's files go into. */
export function chunkDir(groupRels: readonly string[], chunk: Chunk): string {
  return groupRels[chunk[2]]!;
}

/** What a placing thread needs of the plan (what crosses to a worker). */
export interface ChunkJob {
  names: readonly string[];
  kinds: readonly number[];
  realSrcs: ReadonlyMap<number, string>;
  groupSrcs: readonly string[];
  groupRels: readonly string[];
  /** Files from this index on also have their size counted (`sizeOf`); Infinity for none. */
  countFrom: number;
}

/**
 * Places one chunk's files into the staging tree `root` (its directory must
 * exist) and returns the apparent size of those it was asked to count. The
 * paths are built here, one file at a time, and dropped after its syscalls;
 * a counted file is stat-ed just before it is linked, while its inode is hot.
 * Self-contained: workers run its source (worker-source.ts).
 */
export function placeChunk(
  job: ChunkJob,
  chunk: Chunk,
  root: string,
  place: (src: string, dst: string, kind: number, tally: { linked: number; copied: number }) => void,
  tally: { linked: number; copied: number },
  sizeOf: (src: string) => number,
): number {
  const [start, end, g] = chunk;
  const srcDir = `${job.groupSrcs[g]}/`;
  const rel = job.groupRels[g];
  const dstDir = rel === '' ? `${root}/` : `${root}/${rel}/`;
  let bytes = 0;
  for (let i = start; i < end; i++) {
    const name = job.names[i]!;
    const kind = job.kinds[i]!;
    const src = job.realSrcs.get(i) ?? srcDir + name;
    if (i >= job.countFrom && kind !== 2) bytes += sizeOf(src); // 2: KIND_LOCK, a fresh file that counts 0
    place(src, dstDir + name, kind, tally);
  }
  return bytes;
}
