import { accessSync, constants, mkdirSync, mkdtempSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { describe, isSystemError } from '../errors.ts';
import { closeDir, entryPath, kindOf, listEntries, lstatOrNone, openSubdir, removeTree, unlinkEntry, withDir, type DirHandle } from '../fsSafe.ts';
import { sandboxOf, type Bind, type StableCwd } from '../stableCwd.ts';
import { childOutputBase } from '../wrapper/subst.ts';
import { crateCompile, dropSessions, hasFinishedSession, isExternalCrate, type CrateCompile } from './crateDir.ts';
import { maybeEvict } from './evict.ts';
import { withIncrementalDir, withoutIncremental, type IncrementalFlag } from './incrementalFlag.ts';
import { locateStore } from './sandboxPaths.ts';
import { ownership, type Ownership } from './owner.ts';
import { storeSettings, type StoreSettings } from './settings.ts';

/**
 * The store: rustc's own `-C incremental=DIR`, made to persist across Bazel
 * builds without touching any action's inputs, outputs or command line (see
 * docs/store.md). `prepareStore` rewrites only the child's view of DIR; the
 * action key, computed by Bazel from the wrapper's own argv, never sees it.
 */
export interface StoreRun {
  /** The child's argv, `-C incremental` pointing into the store (or dropped). */
  args: string[];
  /** Real directories to bind inside the stable-cwd namespace. */
  binds: Bind[];
  /** Watches the child's stderr for rustc's complaints about the store's path. */
  watch<T extends (bytes: Buffer) => void>(sink: T): T;
  /** After the child: the internal-compiler-error and broken-store retries, then eviction. */
  finish(code: number, rerun: (args: string[]) => Promise<number>): Promise<number>;
}

export interface StoreContext {
  cwd: string;
  stable: StableCwd | undefined;
  env: Record<string, string | undefined>;
  warn: (line: string) => void;
  debug?: (line: string) => void;
  /** The action's cancellation: eviction stops between crate directories. */
  signal?: AbortSignal;
}

/**
 * Eviction walks the store at most this often. Crate directories used this
 * recently are kept: not for running compiles (a live rustc's session lock
 * keeps its crate, however long it runs; evict.ts), but for one that starts
 * between that check and the rename. It was 10 minutes while eviction could
 * not see rustc's locks, which evicted a crate under a longer compile.
 */
const EVICT_INTERVAL_MS = 60_000;
const EVICT_PROTECT_MS = 60_000;

/** `flag` is rustc's `-C incremental` in `args`; undefined when the child is not a rustc compile with a store (nothing changes). */
export function prepareStore(args: readonly string[], flag: IncrementalFlag, ctx: StoreContext): StoreRun | undefined {
  const loc = locateStore(flag.dir, ctx.cwd, ctx.stable, childOutputBase(ctx.cwd, ctx.stable?.path));
  const crate = crateCompile(args);
  if (loc.kind !== 'store' || !crate) return undefined;
  const settings = storeSettings(ctx.env, ctx.warn);
  const pwd = ctx.stable?.path ?? ctx.cwd;
  const report = (fields: Record<string, unknown>) => ctx.debug?.(`store ${JSON.stringify({ store: loc.real, crate: crate.crateName, ...fields })}`);

  if (!settings.external && isExternalCrate(crate.root, pwd)) {
    // As cargo does for registry crates; every action of this crate drops the
    // flag alike, so its rmeta and rlib keep one crate hash.
    report({ mode: 'external', note: 'compiled without -C incremental (SEEDWRAP_STORE_EXTERNAL=1 keeps it)' });
    return plain(withoutIncremental(args));
  }
  try {
    return storeRun(args, flag, ctx, { real: loc.real, rustcDir: loc.rustcDir, bind: loc.bind }, crate, settings, pwd);
  } catch (err) {
    // Anything the store's set-up did not foresee: one line and a cold compile, never the build.
    const why = `cannot be set up (${describe(err)})`;
    ctx.warn(`store ${loc.real}: ${why}; compiling from cold in a fresh incremental directory`);
    return coldRun(args, flag, ctx, pwd, { store: loc.real, crate: crate.crateName, mode: 'cold', reason: why });
  }
}

interface Place {
  real: string;
  rustcDir: string;
  bind?: Bind;
}

function storeRun(args: readonly string[], flag: IncrementalFlag, ctx: StoreContext, loc: Place, crate: CrateCompile, settings: StoreSettings, pwd: string): StoreRun {
  const line: Record<string, unknown> = { store: loc.real, crate: crate.crateName };
  const notes: string[] = [];
  const note = (l: string) => void notes.push(l);
  const report = () => ctx.debug?.(`store ${JSON.stringify({ ...line, ...(notes.length > 0 ? { notes } : {}) })}`);
  const partReal = join(loc.real, crate.partition);
  const partSeen = join(loc.rustcDir, crate.partition);
  const setup = setUpStore(loc.real, crate.partition, crate.crateName, settings.minFreeBytes, note);
  if ('unusable' in setup) {
    ctx.warn(`store ${loc.real}: ${setup.unusable}; compiling from cold in a fresh incremental directory`);
    return coldRun(args, flag, ctx, pwd, { ...line, mode: 'cold', reason: setup.unusable, ...(notes.length > 0 ? { notes } : {}) });
  }
  const managed = setup.ownership.managed;
  if (!setup.ownership.managed) line.managed = setup.ownership.why;
  Object.assign(line, { mode: 'store', dir: partReal });
  // Reading the partition for the debug line only when someone reads it; a debug line never fails a build.
  if (ctx.debug) line.previous = quietly(() => hasFinishedSession(partReal, crate.crateName), note);

  const watcher = storeErrorWatch([partSeen, partReal]);
  const cold = async (rerun: (args: string[]) => Promise<number>, why: string): Promise<number> => {
    ctx.warn(why);
    line.retry = 'cold';
    const c = coldRun(args, flag, ctx, pwd, undefined);
    try {
      return await rerun(c.args);
    } finally {
      await c.finish(0, rerun);
    }
  };
  return {
    args: withIncrementalDir(args, flag, partSeen),
    binds: loc.bind ? [loc.bind] : [],
    watch: watcher.watch,
    async finish(code, rerun) {
      try {
        if (code === 101) {
          // An internal compiler error: stale or damaged state is the usual cause (rules_rust #667).
          const dropped = managed ? quietly(() => dropCrate(loc.real, crate, note), note) : undefined;
          if (dropped !== true) {
            return await cold(rerun, `rustc ended with an internal compiler error (exit 101) using the store; ${managed ? `${crate.crateName}'s incremental state in ${partReal} could not be dropped` : `the store ${loc.real} is not seedwrap's to clean`}, so compiling once more from cold in a fresh incremental directory`);
          }
          ctx.warn(`rustc ended with an internal compiler error (exit 101) using the store; dropped ${crate.crateName}'s incremental state in ${partReal} and compiling once more from cold`);
          line.retry = 'dropped';
          watcher.reset();
          code = await rerun(withIncrementalDir(args, flag, partSeen));
        }
        if (code !== 0 && watcher.failed()) {
          // rustc failed on the store itself (disk full, I/O error): the compile must not fail for it.
          if (managed) quietly(() => dropCrate(loc.real, crate, note), note);
          return await cold(rerun, `rustc could not use the store ${partReal} (see above); compiling once more from cold in a fresh incremental directory`);
        }
        if (code === 0 && managed) evictQuietly(loc.real, settings.maxBytes, ctx, line, note);
        await letSignalsArrive();
        return code;
      } finally {
        report();
      }
    },
  };
}

/**
 * Eviction is synchronous: a SIGTERM that came meanwhile waits in libuv's
 * signal pipe, read only in the event loop's poll phase, and main() must see
 * it before it writes any after-success output. One setImmediate is not
 * enough (its check phase can come before the next poll); the second one runs
 * after a poll.
 */
function letSignalsArrive(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Runs a step whose failure only costs speed: its error becomes a note. */
function quietly<T>(step: () => T, note: (line: string) => void): T | undefined {
  try {
    return step();
  } catch (err) {
    note(describe(err));
    return undefined;
  }
}

function plain(args: string[]): StoreRun {
  return { args, binds: [], watch: (sink) => sink, finish: async (code) => code };
}

/**
 * rustc's own failures to use its incremental directory: a line with an OS
 * error that names the store's directory ("could not create incremental
 * compilation crate directory `…`: No space left on device (os error 28)") or
 * says "incremental compilation" (rustc 1.95, out of inodes: "incremental
 * compilation: could not create session directory lock file: No space left
 * on device (os error 28)", no path; the store is the only incremental
 * directory of the compile). An ordinary compile error whose
 * diagnostic merely mentions the path (an `include_str!` of it, a lint) is
 * not one: its state stays.
 */
function storeErrorWatch(paths: string[]) {
  let failed = false;
  let pending = '';
  const check = (text: string) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop()!.slice(-4096);
    for (const l of lines) if (/\(os error \d+\)/.test(l) && (l.includes('incremental compilation') || paths.some((p) => l.includes(p)))) failed = true;
  };
  return {
    watch: <T extends (bytes: Buffer) => void>(sink: T): T => ((bytes: Buffer) => {
      check(bytes.toString('utf8'));
      sink(bytes);
    }) as T,
    failed: () => {
      check('\n');
      return failed;
    },
    reset: () => {
      failed = false;
      pending = '';
    },
  };
}

/**
 * Makes the store and the partition, each missing directory by itself (a
 * recursive mkdir reports ENOENT where a read-only mount refused with EROFS),
 * checks the store can be written and has room, and tells whether seedwrap
 * manages it. A partition that is a symlink, FIFO or anything but a real
 * directory is removed as an entry in a managed store, and makes any other
 * store unusable: rustc would write through it.
 */
function setUpStore(root: string, partition: string, crateName: string, minFreeBytes: number, note: (line: string) => void): { unusable: string } | { ownership: Ownership } {
  try {
    makeDirs(root);
    const real = realpathSync(root);
    accessSync(real, constants.W_OK);
    const fs = statfsSync(real);
    const free = fs.bavail * fs.bsize;
    if (free < minFreeBytes) return { unusable: `only ${(free / 1048576).toFixed(1)} MiB free (SEEDWRAP_STORE_MIN_FREE_MB=${minFreeBytes / 1048576})` };
    return withDir(real, (dir) => {
      const owner = ownership(dir);
      const part = lstatOrNone(entryPath(dir, partition));
      if (part && !part.isDirectory()) {
        if (!owner.managed) return { unusable: `${root}/${partition} is a ${kindOf(part)}, not a directory` };
        note(`${root}/${partition} was a ${kindOf(part)}; removed`);
        unlinkEntry(dir, partition);
      }
      makeDir(entryPath(dir, partition), `${root}/${partition}`);
      const partDir = owner.managed ? openSubdir(dir, partition) : undefined;
      if (partDir) {
        try {
          clearCrateNames(partDir, crateName, note);
        } finally {
          closeDir(partDir);
        }
      }
      return { ownership: owner };
    }) ?? { unusable: `${root} changed while being opened` };
  } catch (err) {
    return { unusable: `cannot be written (${describe(err)})` };
  }
}

/**
 * rustc makes `<crate>-<id>` with create_dir_all, which follows a symlink
 * there (and fails on a FIFO or file, failing the compile): in a managed
 * store, any such entry of this crate that is not a real directory is removed
 * as an entry first.
 */
function clearCrateNames(part: DirHandle, crateName: string, note: (line: string) => void): void {
  for (const e of listEntries(part)) {
    if (e.kind === 'dir' || !e.name.startsWith(`${crateName}-`)) continue;
    note(`${part.path}/${e.name} was a ${e.kind}; removed`);
    unlinkEntry(part, e.name);
  }
}

/** `mkdir -p` that reports the first real error (EROFS, EACCES, ENOTDIR) with the path it hit. */
function makeDirs(dir: string): void {
  if (lstatOrNone(dir)?.isDirectory() || statSyncOrNone(dir)?.isDirectory()) return;
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  makeDir(dir, dir);
}

function makeDir(path: string, shownAs: string): void {
  try {
    mkdirSync(path);
  } catch (err) {
    if (isSystemError(err, 'EEXIST')) return;
    if (isSystemError(err)) throw Object.assign(err, { path: shownAs });
    throw err;
  }
}

function statSyncOrNone(path: string) {
  return statSync(path, { throwIfNoEntry: false });
}

/**
 * A fresh, empty incremental directory of this compile's own (mkdtemp: unique
 * even for eight requests of one worker process at once), removed after the
 * compile. It keeps `-C incremental` on the command line: dropping the flag
 * would change the crate hash, and a dependent compiled against this action's
 * rmeta (or the pipelined metadata action's, made with the flag) would then
 * refuse the rlib (E0460). Inside a sandbox it lies in the sandbox's
 * execroot, which the child sees at the stable path too; outside, in a temp
 * directory that exists.
 */
function coldRun(args: readonly string[], flag: IncrementalFlag, ctx: StoreContext, pwd: string, line: Record<string, unknown> | undefined): StoreRun {
  const dir = privateDir(ctx, pwd);
  if (line) ctx.debug?.(`store ${JSON.stringify({ ...line, ...(dir ? { dir: dir.real } : { incremental: 'dropped' }) })}`);
  if (!dir) return noPrivateDir(args);
  return {
    ...plain(withIncrementalDir(args, flag, dir.seen)),
    finish: async (code) => {
      try {
        withDir(dirname(dir.real), (parent) => removeTree(parent, basename(dir.real)));
      } catch (err) {
        ctx.warn(`could not remove the cold incremental directory ${dir.real}: ${describe(err)}`);
      }
      return code;
    },
  };
}

function privateDir(ctx: StoreContext, pwd: string): { real: string; seen: string } | undefined {
  const inSandbox = sandboxOf(ctx.cwd) !== undefined;
  for (const base of inSandbox ? [ctx.cwd] : tempDirs(ctx)) {
    try {
      const real = mkdtempSync(join(base, '.seedwrap-cold-incremental-'));
      return { real, seen: inSandbox ? join(pwd, basename(real)) : real };
    } catch {
      // This one is missing, read-only or full: the next one.
    }
  }
  return undefined;
}

/** TMPDIR when it is an absolute path (a relative or missing one is skipped), then the usual ones, then the execroot. */
function tempDirs(ctx: StoreContext): string[] {
  const env = ctx.env.TMPDIR;
  return [...(env && isAbsolute(env) ? [env] : []), '/tmp', '/var/tmp', '/dev/shm', ctx.cwd];
}

/**
 * No directory could be made anywhere (every temp directory and the execroot
 * full or read-only): rustc without -C incremental, so the build still has a
 * chance. Its crate hash differs from a pipelined rmeta made with the flag;
 * with nowhere to write, the compile's own outputs would fail anyway.
 */
function noPrivateDir(args: readonly string[]): StoreRun {
  return plain(withoutIncremental(args));
}

/** Drops the crate's sessions no live rustc holds (crateDir.ts); false when the store is not one to clean. */
function dropCrate(storeRoot: string, crate: CrateCompile, note: (line: string) => void): boolean {
  return withDir(realpathSync(storeRoot), (root) => {
    const part = openSubdir(root, crate.partition);
    if (!part) return false;
    try {
      dropSessions(root, part, crate.crateName, note);
      return true;
    } finally {
      closeDir(part);
    }
  }) ?? false;
}

/** Eviction is housekeeping: its result goes into the debug line, its failure one warning, never the build's. */
function evictQuietly(storeRoot: string, maxBytes: number, ctx: StoreContext, line: Record<string, unknown>, note: (line: string) => void): void {
  try {
    const removed = maybeEvict(storeRoot, { maxBytes, protectMs: EVICT_PROTECT_MS, intervalMs: EVICT_INTERVAL_MS, note, signal: ctx.signal });
    if (removed && removed.length > 0) line.evicted = removed.map((r) => join(storeRoot, r.part, r.name));
  } catch (err) {
    ctx.warn(`store ${storeRoot}: eviction failed: ${describe(err)}`);
  }
}
