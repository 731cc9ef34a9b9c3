import { chunkDir, placeChunk } from './chunks.ts';
import { createPlacer } from './place.ts';

/** Int32 control slots shared by the main thread and workers. */
export const SLOT = { next: 0, stop: 1, done: 2, ready: 3 } as const;

let cached: string | undefined;

/**
 * The source of a seed worker. The bundle is a single CommonJS file, so the
 * worker is created from text (`{ eval: true }`); the placer's and the chunk
 * loop's own source text is embedded so that workers and main thread run
 * identical placement code.
 * A worker may boot before the plan exists (while the seed is still being
 * walked): it waits for its job as one message, then blocks until `ready`
 * (set once the directories exist), claims chunks until none is left, keeps
 * its tally and counted bytes in its own slots after each chunk (before
 * adding to `done`), and posts a message only to report a failure.
 */
export function workerSource(): string {
  cached ??= `'use strict';
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { place, makeDir } = (${createPlacer.toString()})(fs);
const chunkDir = ${chunkDir.toString()};
const placeChunk = ${placeChunk.toString()};
const sizeOf = (src) => fs.statSync(src).size;
parentPort.once('message', ({ job, chunks, root, buffer, threads, slot }) => {
  const control = new Int32Array(buffer, 0, 8);
  const tallies = new Int32Array(buffer, 32, threads * 2);
  const bytes = new Float64Array(buffer, 32 + threads * 8, threads);
  const tally = { linked: 0, copied: 0 };
  try {
    while (Atomics.load(control, ${SLOT.ready}) === 0) Atomics.wait(control, ${SLOT.ready}, 0, 50);
    while (Atomics.load(control, ${SLOT.stop}) === 0) {
      const c = Atomics.add(control, ${SLOT.next}, 1);
      if (c >= chunks.length) break;
      const dir = chunkDir(job.groupRels, chunks[c]);
      if (dir !== '') makeDir(root, dir);
      bytes[slot] += placeChunk(job, chunks[c], root, place, tally, sizeOf);
      Atomics.store(tallies, slot * 2, tally.linked);
      Atomics.store(tallies, slot * 2 + 1, tally.copied);
      Atomics.add(control, ${SLOT.done}, chunks[c][1] - chunks[c][0]);
    }
  } catch (err) {
    Atomics.store(control, ${SLOT.stop}, 1);
    parentPort.postMessage({ message: String(err && err.message), code: err && err.code, path: err && err.path });
  }
});
`;
  return cached;
}
