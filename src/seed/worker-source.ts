import { createPlacer } from './place.ts';

let cached: string | undefined;

/**
 * The source of a seed worker. The bundle is a single CommonJS file, so the
 * worker is created from text (`{ eval: true }`); the placer's own source text
 * is embedded so that workers and main thread run identical placement code.
 */
export function workerSource(): string {
  cached ??= `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const place = (${createPlacer.toString()})(require('node:fs'));
const { srcs, rels, kinds, chunks, root, shared } = workerData;
const tally = { linked: 0, copied: 0, bytes: 0 };
try {
  for (;;) {
    if (Atomics.load(shared, 1) === 1) break;
    const c = Atomics.add(shared, 0, 1);
    if (c >= chunks.length) break;
    const [start, end] = chunks[c];
    for (let i = start; i < end; i++) place(srcs[i], root + '/' + rels[i], kinds[i], tally);
    Atomics.add(shared, 2, end - start);
  }
  parentPort.postMessage({ tally });
} catch (err) {
  Atomics.store(shared, 1, 1);
  parentPort.postMessage({ failure: { message: String(err && err.message), code: err && err.code, path: err && err.path } });
}
`;
  return cached;
}
