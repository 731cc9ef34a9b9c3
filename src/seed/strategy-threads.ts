/**
 * Worker threads, split by subdirectory. Chunks are claimed through a shared
 * counter (Atomics), so the main thread starts at once and the workers join
 * when they have booted (~30–50 ms each): no thread waits for a static share.
 * A failure anywhere raises a shared flag and every thread stops claiming.
 */
import { Worker } from 'node:worker_threads';
import type { Tally } from './place.ts';
import type { Plan } from './plan.ts';
import type { Chunk } from './chunks.ts';
import { newTally, placeHere } from './strategy-sync.ts';
import { workerSource } from './worker-source.ts';

const NEXT = 0; // index of the next unclaimed chunk
const STOP = 1; // set to 1 when any thread failed
const DONE = 2; // files placed so far, all threads

export interface WorkerFailure {
  message: string;
  code?: string;
  path?: string;
}

export async function runThreads(plan: Plan, root: string, chunks: Chunk[], workers: number, onProgress?: (done: number) => void): Promise<Tally> {
  const shared = new Int32Array(new SharedArrayBuffer(12));
  const data = { srcs: plan.srcs, rels: plan.rels, kinds: plan.kinds, chunks, root, shared };
  const running = Array.from({ length: workers }, () => startWorker(data));
  const mine = newTally();
  let failure: unknown;
  try {
    claimLoop(plan, root, chunks, shared, mine, onProgress);
  } catch (err) {
    Atomics.store(shared, STOP, 1);
    failure = err;
  }
  const ticker = onProgress === undefined ? undefined : setInterval(() => onProgress(Atomics.load(shared, DONE)), 100);
  const results = await Promise.allSettled(running).finally(() => clearInterval(ticker));
  if (failure !== undefined) throw failure;
  for (const r of results) {
    if (r.status === 'rejected') throw r.reason;
    mine.linked += r.value.linked;
    mine.copied += r.value.copied;
    mine.bytes += r.value.bytes;
  }
  return mine;
}

function claimLoop(plan: Plan, root: string, chunks: Chunk[], shared: Int32Array, tally: Tally, onProgress?: (done: number) => void): void {
  for (;;) {
    if (Atomics.load(shared, STOP) === 1) return;
    const c = Atomics.add(shared, NEXT, 1);
    if (c >= chunks.length) return;
    const [start, end] = chunks[c]!;
    for (let i = start; i < end; i++) placeHere(plan.srcs[i]!, `${root}/${plan.rels[i]!}`, plan.kinds[i]!, tally);
    const done = Atomics.add(shared, DONE, end - start) + end - start;
    onProgress?.(done);
  }
}

function startWorker(workerData: object): Promise<Tally> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource(), { eval: true, workerData });
    worker.once('message', (msg: { tally?: Tally; failure?: WorkerFailure }) => {
      if (msg.tally !== undefined) resolve(msg.tally);
      else reject(asError(msg.failure));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`seed worker exited with code ${code} before reporting`)));
  });
}

/** Rebuilds a worker's system error so callers can describe it like one of ours. */
function asError(f: WorkerFailure | undefined): Error {
  const err = Object.assign(new Error(f?.message ?? 'seed worker failed'), f?.code === undefined ? {} : { code: f.code, path: f.path });
  return err;
}
