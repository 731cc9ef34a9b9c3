/**
 * Which placement loop to run, chosen per tree from measurements on a 2-vCPU
 * ext4 machine (docs/seeding.md). A worker costs 30–200 ms to boot (more when
 * the machine is busy) and link(2) is ~10 µs, so the synchronous loop wins
 * below tens of thousands of links; copies cost more per file, so fewer make
 * a worker worthwhile. Workers only help when a core is idle: with the load
 * average at or above the core count (a busy Bazel build), the synchronous
 * loop is chosen whatever the size. Bounded async never won a measurement and
 * is only used on request. SEEDWRAP_SEED_STRATEGY=sync|async|threads forces one.
 */
import { statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { KIND_LINK, KIND_OWN } from './place.ts';
import { groupOf, sourceOf, type Plan } from './plan.ts';
import { bootWorkers, dismissIdle, type Crew } from './strategy-threads.ts';

export type Strategy = 'sync' | 'async' | 'threads';

/**
 * Links below this count finish before a worker could help. Quiet 2-vCPU run
 * (docs/seeding.md): at 10k links one worker gave 0.85× `cp -al` against the
 * synchronous loop's 0.95×; at 1k the worker's boot cost more than it saved.
 */
export const LINKS_FOR_THREADS = 10_000;
/** Copies are dearer than links; below this count a worker cannot pay for its start. */
export const COPIES_FOR_THREADS = 5_000;

export interface Choice {
  strategy: Strategy;
  workers: number;
  why: string;
}

/** Probe once, without writing: link(2) across st_dev is EXDEV, so every link would become a copy. */
function crossesDevices(plan: Plan, staging: string): boolean {
  const first = plan.kinds.indexOf(KIND_LINK);
  if (first < 0) return false;
  return statSync(sourceOf(plan, groupOf(plan, first), first)).dev !== statSync(staging).dev;
}

/**
 * Workers to start: one per core the 1-minute load average leaves idle, even
 * partly (Linux counts tasks waiting for the disk in it, and a benchmark or a
 * build that syncs shows 1.5–2 on 2 cores with a core free), but never more
 * than the cores beside this thread, which places files too, and at most 3
 * (more never helped). On 2 cores: one worker below a load of 2, none above
 * (at loads of 6–10 workers lost every measurement; at 1.5–1.9 one worker won
 * at 10k links, 100k links and 10k copies, docs/seeding.md).
 */
export function idleWorkers(): number {
  const cores = availableParallelism();
  return Math.max(0, Math.min(3, cores - 1, Math.ceil(cores - loadavg()[0]!)));
}

export function chooseStrategy(plan: Plan, staging: string, env: Record<string, string | undefined>, booted = 0): Choice {
  const workers = booted > 0 ? booted : idleWorkers();
  const forced = env.SEEDWRAP_SEED_STRATEGY;
  if (forced === 'sync' || forced === 'async') return { strategy: forced, workers: 0, why: 'SEEDWRAP_SEED_STRATEGY' };
  if (forced === 'threads') return { strategy: 'threads', workers: Math.max(workers, 1), why: 'SEEDWRAP_SEED_STRATEGY' };
  if (plan.names.length < Math.min(LINKS_FOR_THREADS, COPIES_FOR_THREADS)) return { strategy: 'sync', workers: 0, why: `${plan.names.length} files` };
  let links = 0;
  let copies = 0;
  for (const kind of plan.kinds) {
    if (kind === KIND_LINK) links++;
    else if (kind === KIND_OWN) copies++;
  }
  const crossing = crossesDevices(plan, staging);
  if (crossing) [copies, links] = [copies + links, 0];
  const why = `${links} links, ${copies} copies${crossing ? ' (DEST on another filesystem)' : ''}, ${workers} idle cores`;
  const worth = links >= LINKS_FOR_THREADS || copies >= COPIES_FOR_THREADS;
  return worth && workers > 0 ? { strategy: 'threads', workers, why } : { strategy: 'sync', workers: 0, why };
}

/**
 * Workers are booted while the seed is still being walked once the walk has
 * found this many files: from here on threads may be chosen (at 5k copies or
 * 10k links), and a worker's boot (30–200 ms) then overlaps the walk instead
 * of the placement. At 10k links the walk takes ~20 ms and placing ~110 ms,
 * so a worker booted after the walk joined for barely half of the placement.
 */
export const BOOT_AT = COPIES_FOR_THREADS;

/** Workers booted during the walk, taken by the threads strategy or dismissed. */
export interface EarlyBoot {
  /** Called by the walk with the number of files found so far. */
  onWalked(files: number): void;
  /** The booted crew (booting `n` now if none was); the caller dismisses it. */
  take(n: number): Crew;
  /** Terminates a crew nobody took (without waiting: it never got a job); always called. */
  release(): void;
  /** How many workers are booted. */
  readonly booted: number;
}

export function earlyBoot(env: Record<string, string | undefined>, debug?: (line: string) => void): EarlyBoot {
  const forced = env.SEEDWRAP_SEED_STRATEGY;
  let crew: Crew | undefined;
  let considered = forced === 'sync' || forced === 'async';
  return {
    onWalked(files) {
      if (considered || files < BOOT_AT) return;
      considered = true;
      const n = forced === 'threads' ? Math.max(1, idleWorkers()) : idleWorkers();
      if (n === 0) return debug?.(`${files} files, no idle core for a seed worker`);
      try {
        crew = bootWorkers(n);
        debug?.(`booting ${n} seed worker(s) after ${files} files`);
      } catch (err) {
        // An early boot is only a head start: without it the seed still runs
        // (the threads strategy boots again and reports a failure then).
        debug?.(`could not boot a seed worker early: ${String(err)}`);
      }
    },
    take(n) {
      const taken = crew ?? bootWorkers(n);
      crew = undefined;
      return taken;
    },
    release() {
      const unused = crew;
      crew = undefined;
      if (unused === undefined) return;
      dismissIdle(unused);
      debug?.(`dismissed ${unused.workers.length} unused seed worker(s)`);
    },
    get booted() {
      return crew?.workers.length ?? 0;
    },
  };
}
