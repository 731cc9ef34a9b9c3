import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { BazelLayout } from '../bazelLayout.ts';
import { describe } from '../errors.ts';
import { closeDir, openSubdir, pinBelow, withDir, type DirHandle } from '../fsSafe.ts';
import { type Bind, type StableCwd } from '../stableCwd.ts';
import { crateCompile, dropSessions, hasFinishedSession, isExternalCrate, type CrateCompile } from './crateDir.ts';
import { maybeEvict } from './evict.ts';
import { makeMetaSeed } from './metaSeed.ts';
import { withIncrementalDir, withoutIncremental, type IncrementalFlag } from './incrementalFlag.ts';
import { locateStore, type StoreLocation } from './sandboxPaths.ts';
import { coldRun, plain } from './cold.ts';
import { setUpStore } from './setup.ts';
import { storeSettings, type StoreSettings } from './settings.ts';
import { storeErrorWatch } from './storeErrors.ts';
export { planExecutor } from '../executor/index.ts';

/**
 * The store: rustc's own `-C incremental=DIR`, made to persist across Bazel
 * builds without touching any action's inputs, outputs or command line (see
 * docs/store.md). `prepareStore` rewrites only the child's view of DIR; the
 * action key, computed by Bazel from the wrapper's own argv, never sees it.
 */
export interface StoreRun {
  /** The child's argv, `-C incremental` pointing into the store (or dropped). */
  args: string[];
  /** The store's real root, unless the compile went cold (pipelining's rendezvous lives under it). */
  root?: string;
  /** Real directories to bind inside the stable-cwd namespace. */
  binds: Bind[];
  /** Watches the child's stderr for rustc's complaints about the store's path. */
  watch<T extends (bytes: Buffer) => void>(sink: T): T;
  /**
   * A pipelined metadata action that compiles itself: its argv with
   * `-C incremental` on a private hard-linked copy of the crate's newest
   * session (metaSeed.ts), and `done` to remove it; undefined when the
   * store is not seedwrap's or the copy cannot be made (the shared directory, as before).
   */
  metaSeed?(): { args: string[]; done(): void } | undefined;
  /** After the child: the internal-compiler-error and broken-store retries, then eviction. */
  finish(code: number, rerun: (args: string[]) => Promise<number>): Promise<number>;
  /** When `finish` will not run (no child started, or its run failed): removes what set-up made for it (a cold directory). */
  discard?(): void;
}

export interface StoreContext {
  cwd: string;
  stable: StableCwd | undefined;
  /** Where the action stands (bazelLayout.ts), validated once by the wrapper. */
  layout: BazelLayout;
  env: Record<string, string | undefined>;
  warn: (line: string) => void;
  debug?: (line: string) => void;
  /** The action's cancellation: eviction stops between crate directories. */
  signal?: AbortSignal;
  /** Where the store is when the caller already knows (the executor store, src/executor/), instead of from DIR. */
  location?: StoreLocation;
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

/**
 * An anchor for isExternalCrate: the decision reads the crate root as
 * written on the command line, never the action's real cwd (issue 16).
 */
const ARGV_ONLY = '/execroot/ws';

/** `flag` is rustc's `-C incremental` in `args`; undefined when the child is not a rustc compile with a store (nothing changes). */
export function prepareStore(args: readonly string[], flag: IncrementalFlag, ctx: StoreContext): StoreRun | undefined {
  const crate = crateCompile(args);
  if (!crate) return undefined;
  const settings = storeSettings(ctx.env, ctx.warn);
  const early = (store: string, fields: Record<string, unknown>) => ctx.debug?.(`store ${JSON.stringify({ store, crate: crate.crateName, ...fields })}`);

  // First, from the command line alone: an action key must give one crate hash
  // wherever it runs (local, sandbox, worker, a remote executor), and
  // -C incremental changes it. So a crate of another repository drops the flag
  // whenever its directory is a store-style one (absolute, or an unsubstituted
  // `${…}`), before anything looks at where the action runs. A relative
  // directory is the action's own (PR #3925's declared tree) and is kept.
  if (!settings.external && (isAbsolute(flag.dir) || flag.dir.includes('${')) && isExternalCrate(crate.root, ARGV_ONLY)) {
    // As cargo does for registry crates; every action of this crate drops the
    // flag alike, so its rmeta and rlib keep one crate hash.
    early(flag.dir, { mode: 'external', note: 'compiled without -C incremental (SEEDWRAP_STORE_EXTERNAL=1 keeps it)' });
    // Where the store is still matters to pipelining's rendezvous (src/pipeline/), never to rustc's flags.
    const loc = ctx.location ?? locateStore(flag.dir, ctx.cwd, ctx.layout, ctx.stable);
    return { ...plain(withoutIncremental(args)), root: loc.kind === 'store' ? loc.real : undefined };
  }
  const pwd = ctx.stable?.path ?? ctx.cwd;
  const loc = ctx.location ?? locateStore(flag.dir, ctx.cwd, ctx.layout, ctx.stable);
  if (loc.kind === 'action') {
    if (loc.warning) ctx.warn(loc.warning);
    return undefined;
  }
  if (loc.kind === 'cold') {
    // Refused (one warning) or an unknown layout (one debug line): a private directory, removed afterwards.
    if (loc.warn) ctx.warn(`-C incremental=${flag.dir}: ${loc.reason}; compiling from cold in a private temporary directory`);
    return coldRun(args, flag, ctx, pwd, { store: flag.dir, crate: crate.crateName, mode: 'cold', reason: loc.reason });
  }
  try {
    return storeRun(args, flag, ctx, { real: loc.real, rustcDir: loc.rustcDir, bind: loc.bind, pinFrom: loc.pinFrom }, crate, settings, pwd);
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
  /** The output base the store lies in, when the namespace binds it: set-up and the bind go through a pin from there. */
  pinFrom?: string;
}

function storeRun(args: readonly string[], flag: IncrementalFlag, ctx: StoreContext, loc: Place, crate: CrateCompile, settings: StoreSettings, pwd: string): StoreRun {
  const line: Record<string, unknown> = { store: loc.real, crate: crate.crateName };
  const notes: string[] = [];
  const note = (l: string) => void notes.push(l);
  const report = () => ctx.debug?.(`store ${JSON.stringify({ ...line, ...(notes.length > 0 ? { notes } : {}) })}`);
  const partReal = join(loc.real, crate.partition);
  const partSeen = join(loc.rustcDir, crate.partition);
  // Bound into a namespace: the store is pinned below the output base, each
  // directory opened without following a symlink, and set-up and the bind
  // both go through that descriptor, never through the path again (a
  // directory above the store swapped for a symlink would otherwise choose
  // where set-up and rustc write). Closed after finish (or discard).
  let pin: DirHandle | undefined;
  if (loc.bind && loc.pinFrom !== undefined) {
    try {
      pin = pinBelow(loc.pinFrom, relative(loc.pinFrom, loc.real));
    } catch (err) {
      const why = `cannot be written (${describe(err)})`;
      ctx.warn(`store ${loc.real}: ${why}; compiling from cold in a fresh incremental directory`);
      return coldRun(args, flag, ctx, pwd, { ...line, mode: 'cold', reason: why });
    }
    if (!pin) {
      const why = 'a directory on its path is not a real directory (a symbolic link, or it changed while being opened)';
      ctx.warn(`store ${loc.real}: ${why}; compiling from cold in a fresh incremental directory`);
      return coldRun(args, flag, ctx, pwd, { ...line, mode: 'cold', reason: why });
    }
  }
  const unpin = () => {
    if (pin) closeDir(pin);
    pin = undefined;
  };
  let setup: ReturnType<typeof setUpStore>;
  try {
    setup = setUpStore(loc.real, crate.partition, crate.crateName, settings.minFreeBytes, note, pin);
  } catch (err) {
    unpin();
    throw err;
  }
  if ('unusable' in setup) {
    unpin();
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
    root: loc.real,
    binds: loc.bind ? [{ ...loc.bind, fd: pin?.fd }] : [],
    discard: unpin,
    watch: watcher.watch,
    metaSeed() {
      if (!managed) return undefined;
      try {
        const seed = makeMetaSeed(partReal, partSeen, crate.crateName);
        line.meta = { dir: seed.seen, sessions: seed.sessions };
        return { args: withIncrementalDir(args, flag, seed.seen), done: () => void quietly(seed.remove, note) };
      } catch (err) {
        note(`private session copy for the metadata compile: ${describe(err)}; the shared directory is used`);
        return undefined;
      }
    },
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
        unpin();
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
