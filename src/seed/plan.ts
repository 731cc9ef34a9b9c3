/**
 * A plan is everything seeding will do, computed before the first write:
 * directories (parents first) and files as flat parallel arrays, because the
 * file list crosses to worker threads and 100k small objects cost more to
 * clone than three arrays.
 */
export interface PlanDir {
  /** Path relative to DEST; '' is DEST itself. */
  rel: string;
  /** Mode applied once the tree is complete (rustc layout: 0755). */
  mode: number;
}

export interface Skipped {
  path: string;
  reason: string;
}

export interface Plan {
  dirs: PlanDir[];
  /** Real source paths: a symlink in the seed is resolved before link(2), which would link the symlink itself. */
  srcs: string[];
  rels: string[];
  kinds: number[];
  /** Index into srcs where each directory's files start: the unit the thread strategy splits on. */
  groups: number[];
  skipped: Skipped[];
}

export function emptyPlan(): Plan {
  return { dirs: [], srcs: [], rels: [], kinds: [], groups: [], skipped: [] };
}

export function addFile(plan: Plan, src: string, rel: string, kind: number): void {
  plan.srcs.push(src);
  plan.rels.push(rel);
  plan.kinds.push(kind);
}

/** Marks the start of a directory's files; empty groups are dropped. */
export function startGroup(plan: Plan): void {
  const at = plan.srcs.length;
  if (plan.groups[plan.groups.length - 1] !== at) plan.groups.push(at);
}

export function joinRel(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}
