/**
 * Worker threads, split by subdirectory. Chunks are claimed through a shared
 * counter (Atomics), so the main thread starts at once and workers join when
 * they have booted (30–100 ms each on a busy 2-vCPU machine; usually booted
 * during the walk, see strategy.ts). Tallies live in
 * shared memory too, so once every file is placed the main thread terminates
 * workers still booting instead of waiting for them. A failure anywhere raises
 * a shared flag: every thread stops claiming, and the failing one reports why.
 */
import { Worker } from 'node:worker_threads';
import type { Plan } from './plan.ts';
import { chunkDir, placeChunk, type Chunk, type ChunkJob } from './chunks.ts';
import { jobOf, makeDirHere, newTally, placeHere, sizeHere, type Placed } from './strategy-sync.ts';
import { SLOT, workerSource } from './worker-source.ts';
import { checkInterrupted, maybeYield, SLICE_MS } from './interrupt.ts';

export interface WorkerFailure {
  message: string;
  code?: string;
  path?: string;
}

/** Int32 slots (control), per-worker Int32 tallies (linked, copied) and Float64 byte counts over one SharedArrayBuffer. */
function sharedState(threads: number): { control: Int32Array; tallies: Int32Array; bytes: Float64Array } {
  const buffer = new SharedArrayBuffer(32 + threads * 16);
  return { control: new Int32Array(buffer, 0, 8), tallies: new Int32Array(buffer, 32, threads * 2), bytes: new Float64Array(buffer, 32 + threads * 8, threads) };
}

export interface Threads {
  /** Places every file (the directories must exist), main thread included; resolves with the total tally. */
  run(onProgress?: (done: number) => void, signal?: AbortSignal): Promise<Placed>;
  /** Stops and terminates the workers; always called, after `run` or instead of it. */
  close(): Promise<void>;
}

/** Workers booted ahead of their job: handed to `startThreads`, or dismissed. */
export interface Crew {
  workers: Worker[];
  /** One per worker: rejects with the worker's failure (observed in `run`). */
  failures: Promise<never>[];
}

/**
 * A worker's young generation, in MiB. Its garbage is one source and one DEST
 * path per file, dead after the file's syscalls; V8's default let it grow to
 * tens of MiB (max RSS 101 MiB for 100k files with one worker, 90 MiB with this cap, 70 MiB without a worker).
 */
const YOUNG_MB = 4;

/** Starts `n` workers that wait for their job as one message (see worker-source.ts). */
export function bootWorkers(n: number): Crew {
  const workers = Array.from({ length: n }, () => new Worker(workerSource(), { eval: true, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } }));
  const failures = workers.map(failureOf);
  failures.forEach((f) => f.catch(() => {})); // a failure after dismissal is moot
  return { workers, failures };
}

/** Terminates a crew that got a job, and waits: none of them may still be writing into the staging tree when it is removed. */
export async function dismiss(crew: Crew): Promise<void> {
  await Promise.all(crew.workers.map((w) => w.terminate()));
}

/**
 * Terminates a crew that never got a job, without waiting: they cannot write
 * anything, and terminate() took 10–27 ms here, which a seed that chose the
 * synchronous loop (or nothing) would otherwise add to its time. Unreferenced,
 * so they never keep the process alive.
 */
export function dismissIdle(crew: Crew): void {
  for (const worker of crew.workers) {
    worker.unref();
    void worker.terminate();
  }
}

/**
 * Hands the plan to the crew; they wait for `ready`, set by `run` once the
 * directories without files exist. Every claimer makes its chunk's directory
 * (and any missing parent) itself, see `makeDir` in place.ts.
 */
export function startThreads(plan: Plan, root: string, chunks: Chunk[], countFrom: number, crew: Crew): Threads {
  const { workers, failures } = crew;
  const { control, tallies, bytes } = sharedState(workers.length);
  const job = jobOf(plan, countFrom);
  const base = { job, chunks, root, buffer: control.buffer, threads: workers.length };
  workers.forEach((worker, slot) => worker.postMessage({ ...base, slot }));
  return {
    async run(onProgress, signal) {
      Atomics.store(control, SLOT.ready, 1);
      Atomics.notify(control, SLOT.ready);
      const mine = newTally();
      try {
        await claimLoop(job, root, chunks, control, mine, onProgress, signal);
      } catch (err) {
        Atomics.store(control, SLOT.stop, 1);
        throw err;
      }
      const ticker = onProgress && setInterval(() => onProgress(Atomics.load(control, SLOT.done)), 100);
      try {
        await Promise.race([allPlaced(control, plan.names.length, signal), ...failures]);
      } finally {
        clearInterval(ticker);
      }
      for (let w = 0; w < workers.length; w++) {
        mine.linked += Atomics.load(tallies, w * 2);
        mine.copied += Atomics.load(tallies, w * 2 + 1);
        mine.bytes += bytes[w]!; // written before the worker's `done`, which allPlaced has read
      }
      return mine;
    },
    async close() {
      Atomics.store(control, SLOT.stop, 1);
      Atomics.store(control, SLOT.ready, 1);
      Atomics.notify(control, SLOT.ready);
      await dismiss(crew);
    },
  };
}

async function claimLoop(job: ChunkJob, root: string, chunks: Chunk[], control: Int32Array, tally: Placed, onProgress?: (done: number) => void, signal?: AbortSignal): Promise<void> {
  let sliceEnd = performance.now() + SLICE_MS;
  while (Atomics.load(control, SLOT.stop) === 0) {
    const c = Atomics.add(control, SLOT.next, 1);
    if (c >= chunks.length) return;
    const [start, end] = chunks[c]!;
    const dir = chunkDir(job.groupRels, chunks[c]!);
    if (dir !== '') makeDirHere(root, dir);
    tally.bytes += placeChunk(job, chunks[c]!, root, placeHere, tally, sizeHere);
    const done = Atomics.add(control, SLOT.done, end - start) + end - start; // not inside `onProgress?.()`: its arguments are skipped when it is absent
    onProgress?.(done);
    sliceEnd = await maybeYield(sliceEnd, signal);
  }
}

/**
 * Resolves when every file is placed; never rejects (failures race against it).
 * Polls every millisecond: Atomics.waitAsync would be neater, but in Node its
 * timeout does not keep the event loop alive, so a missed wake-up hangs.
 */
async function allPlaced(control: Int32Array, total: number, signal?: AbortSignal): Promise<void> {
  for (;;) {
    checkInterrupted(signal);
    const done = Atomics.load(control, SLOT.done);
    if (done >= total) return;
    if (Atomics.load(control, SLOT.stop) === 1) return new Promise(() => {}); // a failure message is on its way
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Rejects with the worker's error (rebuilt as a system error so callers describe it like ours). */
function failureOf(worker: Worker): Promise<never> {
  return new Promise((_, reject) => {
    worker.on('message', (f: WorkerFailure) => reject(Object.assign(new Error(f.message), f.code === undefined ? {} : { code: f.code, path: f.path })));
    worker.on('error', reject);
  });
}
