/**
 * Which placement loop to run, chosen per tree from measurements on a 2-vCPU
 * ext4 machine (docs/seeding.md). A worker thread costs ~30–50 ms to boot, so
 * small trees are linked by a synchronous loop; a large tree, or one that must
 * be copied (DEST on another filesystem, or `*.o` that need inodes of their
 * own), is shared with workers. Bounded async never won a measurement and is
 * only chosen on request. SEEDWRAP_SEED_STRATEGY=sync|async|threads forces one.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { KIND_LINK, KIND_OWN } from './place.ts';
import type { Plan } from './plan.ts';

export type Strategy = 'sync' | 'async' | 'threads';

/** Links below this count finish before a worker could help. */
export const LINKS_FOR_THREADS = 3000;
/** Copies are ~20–50× dearer than links; below this count a worker cannot pay for its start. */
export const COPIES_FOR_THREADS = 48;

export interface Choice {
  strategy: Strategy;
  workers: number;
  why: string;
}

/** Probe once, without writing: link(2) across st_dev is EXDEV, so every link would become a copy. */
function crossesDevices(plan: Plan, staging: string): boolean {
  const first = plan.kinds.indexOf(KIND_LINK);
  if (first < 0) return false;
  return statSync(plan.srcs[first]!).dev !== statSync(staging).dev;
}

export function chooseStrategy(plan: Plan, staging: string, env: Record<string, string | undefined>): Choice {
  const workers = Math.min(Math.max(availableParallelism() - 1, 0), 3);
  const forced = env.SEEDWRAP_SEED_STRATEGY;
  if (forced === 'sync' || forced === 'async') return { strategy: forced, workers: 0, why: 'SEEDWRAP_SEED_STRATEGY' };
  if (forced === 'threads') return { strategy: 'threads', workers: Math.max(workers, 1), why: 'SEEDWRAP_SEED_STRATEGY' };
  let links = 0;
  let copies = 0;
  for (const kind of plan.kinds) {
    if (kind === KIND_LINK) links++;
    else if (kind === KIND_OWN) copies++;
  }
  const crossing = crossesDevices(plan, staging);
  if (crossing) [copies, links] = [copies + links, 0];
  const why = `${links} links, ${copies} copies${crossing ? ' (DEST on another filesystem)' : ''}`;
  const worth = links >= LINKS_FOR_THREADS || copies >= COPIES_FOR_THREADS;
  return worth && workers > 0 ? { strategy: 'threads', workers, why } : { strategy: 'sync', workers: 0, why };
}
