/**
 * A plan is everything seeding will do, computed before the first write:
 * directories (parents first) and files as flat parallel arrays, because the
 * file list crosses to worker threads and 100k small objects cost more to
 * clone than a few arrays.
 *
 * Files are grouped by the directory they land in (each walked directory is
 * one group), and a file is stored as its name only: its source is
 * `groupSrcs[g]/name` and its place `groupRels[g]/name`. Full paths are built
 * while placing and dropped at once: kept in the plan, 100k of them (flattened
 * by the first syscall that used them) held ~35 MB and cost the walk a third
 * of its time (docs/seeding.md, issue 12). A followed symlink's file has a
 * real source elsewhere: that one path is kept in `realSrcs`.
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
  /** Per file: its name, in DEST and (unless in realSrcs) in the source directory of its group. */
  names: string[];
  kinds: number[];
  /** Per file index: the real source path of a file reached through a symlink (link(2) would link the symlink itself). */
  realSrcs: Map<number, string>;
  /** Index into names where each group's files start: the unit the thread strategy splits on. */
  groups: number[];
  /** Per group: the real source directory of its files. */
  groupSrcs: string[];
  /** Per group: the directory, relative to DEST ('' for DEST itself), its files go into. */
  groupRels: string[];
  skipped: Skipped[];
}

export function emptyPlan(): Plan {
  return { dirs: [], names: [], kinds: [], realSrcs: new Map(), groups: [], groupSrcs: [], groupRels: [], skipped: [] };
}

/** Adds a file of the current group; `realSrc` when its source is not `<group's source>/<name>`. */
export function addFile(plan: Plan, name: string, kind: number, realSrc?: string): void {
  if (realSrc !== undefined) plan.realSrcs.set(plan.names.length, realSrc);
  plan.names.push(name);
  plan.kinds.push(kind);
}

/** Starts the group of the directory `srcDir`, placed as `rel`; an empty group before it is replaced. */
export function startGroup(plan: Plan, srcDir: string, rel: string): void {
  const at = plan.names.length;
  const last = plan.groups.length - 1;
  if (plan.groups[last] === at) {
    plan.groupSrcs[last] = srcDir;
    plan.groupRels[last] = rel;
    return;
  }
  plan.groups.push(at);
  plan.groupSrcs.push(srcDir);
  plan.groupRels.push(rel);
}

/** The source path of file `i` of group `g`. */
export function sourceOf(plan: Plan, g: number, i: number): string {
  return plan.realSrcs.get(i) ?? `${plan.groupSrcs[g]!}/${plan.names[i]!}`;
}

/** The group holding file `i` (binary search: for the few callers outside the placement loops). */
export function groupOf(plan: Plan, i: number): number {
  let lo = 0;
  let hi = plan.groups.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (plan.groups[mid]! <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function joinRel(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}
