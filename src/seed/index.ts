/**
 * Seeding: materialise a previous build's incremental tree (SRC) as DEST, in a
 * form rustc reuses, without ever modifying SRC. See docs/seeding.md.
 *
 * Steps: plan (walk, rustc layout) → threshold → stage (dirs, then files by
 * the chosen strategy) → publish by rename. Any failure removes the staging
 * directory and throws SeedwrapError('SEED'); DEST then exists and is empty.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { describe, SeedwrapError } from '../errors.ts';
import { chunkDir, chunksByDirectory, type Chunk } from './chunks.ts';
import { abandon, checkDest, checkOutsideSeed, cleanLeftovers, createStaging, ensureDest, publish, realDestPath } from './commit.ts';
import { planSeed, type Layout } from './layout.ts';
import type { Plan, Skipped } from './plan.ts';
import { chooseStrategy, earlyBoot, type Choice, type EarlyBoot } from './strategy.ts';
import { runAsync } from './strategy-async.ts';
import { makeDirHere, runSync, type Placed } from './strategy-sync.ts';
import { dismissIdle, startThreads, type Crew, type Threads } from './strategy-threads.ts';
import { countUntil } from './threshold.ts';
import { checkInterrupted } from './interrupt.ts';
import { symlinkScope } from './scope.ts';

export interface SeedOptions {
  minBytes: number;
  writableWorkProducts: boolean;
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
  debug?: (line: string) => void;
  /** Aborted by a signal (its reason, the signal's name): the seed stops, cleans up and throws "interrupted by SIG…". */
  signal?: AbortSignal;
  /** The action's working directory (default: the process's): symlinks may lead into its execroot's output tree (scope.ts). */
  cwd?: string;
}

export interface SeedReport {
  outcome: 'seeded' | 'below-threshold' | 'missing-source' | 'empty-source';
  layout: Layout;
  strategy: string;
  files: number;
  linked: number;
  copied: number;
  skipped: Skipped[];
  /**
   * Apparent size counted for the threshold. Exact when below the threshold,
   * on a dry run, or when exact counting was asked for (`seedwrap seed`);
   * otherwise counting stopped once past minBytes, so it is a lower bound
   * (0 with minBytes 0): a stat per file costs ~25% of a hard-link seed.
   */
  bytes: number;
  ms: number;
}

export async function seed(src: string, dest: string, opts: SeedOptions): Promise<SeedReport> {
  return seedTree(src, dest, opts, false);
}

/** `seed`, optionally counting every file's size for the report (the standalone command does). */
export async function seedTree(src: string, dest: string, opts: SeedOptions, exactBytes: boolean): Promise<SeedReport> {
  const started = performance.now();
  const finish = (r: Omit<SeedReport, 'ms'>): SeedReport => ({ ...r, ms: Math.round((performance.now() - started) * 100) / 100 });
  const srcStat = guard(`cannot read the seed ${src}`, () => statSync(src, { throwIfNoEntry: false }));
  const idle = { layout: 'mirror' as Layout, strategy: 'none', files: 0, linked: 0, copied: 0, skipped: [], bytes: 0 };
  if (srcStat === undefined) {
    if (!opts.dryRun) guard(`cannot prepare ${dest}`, () => { checkDest(dest); ensureDest(dest); });
    return finish({ ...idle, outcome: 'missing-source' });
  }
  if (!srcStat.isDirectory()) throw new SeedwrapError('SEED', `seed source ${src} is not a directory`);
  guard(`cannot prepare ${dest}`, () => {
    checkOutsideSeed(src, dest);
    checkDest(dest);
  });
  // From here on DEST is ours to create: whatever happens, it exists afterwards (empty unless seeded).
  // A dry run places nothing, so it never boots a worker: as if the synchronous loop were forced.
  const early = earlyBoot(opts.dryRun ? { SEEDWRAP_SEED_STRATEGY: 'sync' } : process.env, opts.debug);
  try {
    const scope = guard(`cannot read the seed ${src}`, () => symlinkScope(src, opts.cwd ?? process.cwd(), realDestPath(dest)));
    const { layout, plan } = await guardAsync(`cannot read the seed ${src}`, () => planSeed(src, opts.writableWorkProducts, scope, early.onWalked, opts.signal));
    opts.debug?.(`seed ${src}: ${layout} layout, ${plan.names.length} files, ${plan.dirs.length} dirs, ${plan.skipped.length} skipped`);
    if (opts.debug) for (const s of plan.skipped) if (!s.reason.endsWith(' session')) opts.debug(`skipped ${s.path}: ${s.reason}`);
    const base = { ...idle, layout, files: plan.names.length, skipped: plan.skipped };
    if (plan.names.length === 0) return finish({ ...base, outcome: 'empty-source' });
    const counted = await guardAsync(`cannot read the seed ${src}`, () => countUntil(plan, opts.dryRun ? Infinity : opts.minBytes, opts.signal));
    if (counted.bytes < opts.minBytes) return finish({ ...base, outcome: 'below-threshold', bytes: counted.bytes });
    if (opts.dryRun) return finish({ ...base, outcome: 'seeded', strategy: 'dry-run', bytes: counted.bytes });
    // An exact total: the files past the threshold are counted as they are placed, by whichever thread places them.
    const { choice, tally } = await stageAndPublish(plan, dest, opts, early, exactBytes ? counted.next : Infinity);
    return finish({ ...base, outcome: 'seeded', strategy: choice.strategy, ...tally, bytes: counted.bytes + tally.bytes });
  } finally {
    early.release();
    if (!opts.dryRun) ensureDest(dest);
  }
}

async function stageAndPublish(plan: Plan, dest: string, opts: SeedOptions, early: EarlyBoot, countFrom: number): Promise<{ choice: Choice; tally: Placed }> {
  let staging: string | undefined;
  try {
    staging = createStaging(dest);
    for (const gone of cleanLeftovers(dest)) opts.debug?.(`removed leftover staging ${gone}`);
    const choice = chooseStrategy(plan, staging, process.env, early.booted);
    opts.debug?.(`strategy ${choice.strategy} (${choice.why}${early.booted > 0 ? ', booted during the walk' : ''})`);
    checkInterrupted(opts.signal);
    const tally = await place(plan, staging, choice, opts, early, countFrom);
    applyDirModes(plan, staging);
    publish(staging, dest, plan.dirs[0]?.mode ?? 0o755);
    return { choice, tally };
  } catch (err) {
    abandon(staging, dest);
    if (err instanceof SeedwrapError) throw err;
    throw new SeedwrapError('SEED', `cannot seed ${dest}: ${describe(err)}`, { cause: err });
  }
}

/**
 * Creates the directories and places the files by the chosen strategy. The
 * synchronous loops make every directory first; with threads, each chunk's
 * claimer makes its own directory (mkdir took 160–290 µs on this ext4, so a
 * 1,000-directory pass on the main thread kept an already booted worker
 * waiting), and the main thread makes only the directories without files.
 */
async function place(plan: Plan, root: string, choice: Choice, { onProgress, signal, debug }: SeedOptions, early: EarlyBoot, countFrom: number): Promise<Placed> {
  const total = plan.names.length;
  let done = 0;
  const chunks = chunksByDirectory(plan);
  const crew = choice.strategy === 'threads' ? crewOrNone(early, choice, debug) : undefined;
  if (crew !== undefined) {
    let threads: Threads;
    try {
      threads = startThreads(plan, root, chunks, countFrom, crew);
    } catch (err) {
      dismissIdle(crew); // never got a job: nothing of theirs can be in the staging tree
      throw err;
    }
    try {
      makeDirsWithoutFiles(plan, root, chunks);
      return await threads.run(onProgress && ((n) => onProgress(n, total)), signal);
    } finally {
      await threads.close();
    }
  }
  makeDirs(plan, root);
  if (choice.strategy === 'async') return runAsync(plan, root, chunks, countFrom, 16, onProgress && (() => onProgress(++done, total)), signal);
  return runSync(plan, root, chunks, countFrom, onProgress && ((n) => onProgress((done += n), total)), signal);
}

/**
 * The crew for the threads strategy (booted during the walk, or now), or
 * undefined when no worker thread can be started (a thread or memory limit of
 * the sandbox or container): the files are then placed by the synchronous
 * loop, and the report says so.
 */
function crewOrNone(early: EarlyBoot, choice: Choice, debug?: (line: string) => void): Crew | undefined {
  try {
    return early.take(choice.workers);
  } catch (err) {
    debug?.(`no seed worker could be started (${String(err)}); placing every file on the main thread`);
    choice.strategy = 'sync';
    return undefined;
  }
}

/** Directories are created owner-writable so they can be filled; rustc layout gets 0755 everywhere. */
function makeDirs(plan: Plan, root: string): void {
  for (const dir of plan.dirs) if (dir.rel !== '') mkdirSync(`${root}/${dir.rel}`, { mode: 0o700 });
}

/** The directories no chunk will make (empty, or holding only directories), with any missing parents. */
function makeDirsWithoutFiles(plan: Plan, root: string, chunks: Chunk[]): void {
  const withFiles = new Set(chunks.map((c) => chunkDir(plan.groupRels, c)));
  for (const dir of plan.dirs) if (dir.rel !== '' && !withFiles.has(dir.rel)) makeDirHere(root, dir.rel);
}

/** Explicit chmod: the umask must not decide whether rustc can write its lock and session. */
function applyDirModes(plan: Plan, root: string): void {
  for (const dir of plan.dirs) if (dir.rel !== '') chmodSync(`${root}/${dir.rel}`, dir.mode);
}

function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw asSeedError(what, err);
  }
}

async function guardAsync<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asSeedError(what, err);
  }
}

function asSeedError(what: string, err: unknown): SeedwrapError {
  return err instanceof SeedwrapError ? err : new SeedwrapError('SEED', `${what}: ${describe(err)}`, { cause: err });
}
