import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { BazelLayout } from '../bazelLayout.ts';
import { describe } from '../errors.ts';
import { sandboxOf, type Bind, type StableCwd } from '../stableCwd.ts';
import { crateCompile, crateDirs, hasFinishedSession, isExternalCrate, removeDir } from './crateDir.ts';
import { maybeEvict } from './evict.ts';
import { withIncrementalDir, withoutIncremental, type IncrementalFlag } from './incrementalFlag.ts';
import { locateStore, type StoreLocation } from './sandboxPaths.ts';
import { storeSettings } from './settings.ts';
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
  /** Where the action stands (bazelLayout.ts), validated once by the wrapper. */
  layout: BazelLayout;
  env: Record<string, string | undefined>;
  warn: (line: string) => void;
  debug?: (line: string) => void;
  /** Where the store is when the caller already knows (the executor store, src/executor/), instead of from DIR. */
  location?: StoreLocation;
}

/** Eviction walks the store at most this often; crate directories used this recently are kept. */
const EVICT_INTERVAL_MS = 60_000;
const EVICT_PROTECT_MS = 10 * 60_000;

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
    return plain(withoutIncremental(args));
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
    early(flag.dir, { mode: 'cold', reason: loc.reason });
    return coldRun(args, flag, ctx, pwd);
  }
  const report = (fields: Record<string, unknown>) => ctx.debug?.(`store ${JSON.stringify({ store: loc.real, crate: crate.crateName, ...fields })}`);
  const partReal = join(loc.real, crate.partition);
  const partSeen = join(loc.rustcDir, crate.partition);
  const unusable = whyUnusable(loc.real, partReal, settings.minFreeBytes);
  if (unusable) {
    ctx.warn(`store ${loc.real}: ${unusable}; compiling from cold in a fresh incremental directory`);
    report({ mode: 'cold', reason: unusable });
    return coldRun(args, flag, ctx, pwd);
  }
  // Reading the partition for the debug line only when someone reads it.
  if (ctx.debug) report({ mode: 'store', dir: partReal, previous: hasFinishedSession(partReal, crate.crateName) });

  let mentioned = false;
  return {
    args: withIncrementalDir(args, flag, partSeen),
    binds: loc.bind ? [loc.bind] : [],
    watch: (sink) => ((bytes: Buffer) => {
      mentioned ||= bytes.includes(partSeen);
      sink(bytes);
    }) as typeof sink,
    async finish(code, rerun) {
      if (code === 101) {
        // An internal compiler error: stale or damaged state is the usual cause (rules_rust #667).
        dropCrate(partReal, crate.crateName, loc.real);
        ctx.warn(`rustc ended with an internal compiler error (exit 101) using the store; dropped ${crate.crateName}'s incremental state in ${partReal} and compiling once more from cold`);
        code = await rerun(withIncrementalDir(args, flag, partSeen));
      } else if (code !== 0 && mentioned) {
        // rustc failed on the store itself (disk full, I/O error): the compile must not fail for it.
        dropCrate(partReal, crate.crateName, loc.real);
        ctx.warn(`rustc could not use the store ${partReal} (see above); compiling once more from cold in a fresh incremental directory`);
        const cold = coldRun(args, flag, ctx, pwd);
        try {
          return await rerun(cold.args);
        } finally {
          await cold.finish(0, rerun);
        }
      }
      if (code === 0) evictQuietly(loc.real, settings.maxBytes, ctx);
      return code;
    },
  };
}

function plain(args: string[]): StoreRun {
  return { args, binds: [], watch: (sink) => sink, finish: async (code) => code };
}

function whyUnusable(storeRoot: string, partDir: string, minFreeBytes: number): string | undefined {
  try {
    mkdirSync(partDir, { recursive: true });
    accessSync(storeRoot, constants.W_OK);
    const fs = statfsSync(storeRoot);
    const free = fs.bavail * fs.bsize;
    if (free < minFreeBytes) return `only ${(free / 1048576).toFixed(1)} MiB free (SEEDWRAP_STORE_MIN_FREE_MB=${minFreeBytes / 1048576})`;
  } catch (err) {
    return `cannot be written (${describe(err)})`;
  }
  return undefined;
}

/**
 * A fresh, empty incremental directory, removed after the compile. It keeps
 * `-C incremental` on the command line: dropping the flag would change the
 * crate hash, and a dependent compiled against this action's rmeta (or the
 * pipelined metadata action's, made with the flag) would then refuse the
 * rlib (E0460). Inside a sandbox it lies in the sandbox's execroot, which the
 * child sees at the stable path too; outside, in the temp directory.
 */
function coldRun(args: readonly string[], flag: IncrementalFlag, ctx: StoreContext, pwd: string): StoreRun {
  let real: string;
  let seen: string;
  if (sandboxOf(ctx.cwd)) {
    const name = `.seedwrap-cold-incremental-${process.pid}-${Date.now().toString(36)}`;
    real = join(ctx.cwd, name);
    seen = join(pwd, name);
    mkdirSync(real);
  } else {
    real = seen = mkdtempSync(join(tmpdir(), 'seedwrap-cold-incremental-'));
  }
  return {
    ...plain(withIncrementalDir(args, flag, seen)),
    finish: async (code) => {
      rmSync(real, { recursive: true, force: true });
      return code;
    },
  };
}

function dropCrate(partDir: string, crateName: string, storeRoot: string): void {
  for (const dir of crateDirs(partDir, crateName)) removeDir(dir, storeRoot);
}

/** Eviction is housekeeping: its result is a debug line, its failure one warning, never the build's. */
function evictQuietly(storeRoot: string, maxBytes: number, ctx: StoreContext): void {
  try {
    const removed = maybeEvict(storeRoot, { maxBytes, protectMs: EVICT_PROTECT_MS, intervalMs: EVICT_INTERVAL_MS });
    if (removed && removed.length > 0) ctx.debug?.(`store ${JSON.stringify({ store: storeRoot, evicted: removed.map((r) => r.dir) })}`);
  } catch (err) {
    ctx.warn(`store ${storeRoot}: eviction failed: ${describe(err)}`);
  }
}
