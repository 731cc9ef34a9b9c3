import { mkdtempSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { describe } from '../errors.ts';
import { removeTree, withDir } from '../fsSafe.ts';
import { withIncrementalDir, withoutIncremental, type IncrementalFlag } from './incrementalFlag.ts';
import type { StoreContext, StoreRun } from './index.ts';

/** A child run the store does nothing more for. */
export function plain(args: string[]): StoreRun {
  return { args, binds: [], watch: (sink) => sink, finish: async (code) => code };
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
export function coldRun(args: readonly string[], flag: IncrementalFlag, ctx: StoreContext, pwd: string, line: Record<string, unknown> | undefined): StoreRun {
  const dir = privateDir(ctx, pwd);
  if (line) ctx.debug?.(`store ${JSON.stringify({ ...line, ...(dir ? { dir: dir.real } : { incremental: 'dropped' }) })}`);
  if (!dir) return noPrivateDir(args);
  const remove = () => {
    try {
      withDir(realpathSync(dirname(dir.real)), (parent) => removeTree(parent, basename(dir.real)));  // TMPDIR may be a symlink
    } catch (err) {
      ctx.warn(`could not remove the cold incremental directory ${dir.real}: ${describe(err)}`);
    }
  };
  return {
    ...plain(withIncrementalDir(args, flag, dir.seen)),
    finish: async (code) => {
      remove();
      return code;
    },
    discard: remove,
  };
}

function privateDir(ctx: StoreContext, pwd: string): { real: string; seen: string } | undefined {
  const inSandbox = ctx.layout.kind === 'sandbox' || ctx.layout.kind === 'worker';
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

/**
 * TMPDIR when it is an absolute path (a relative or missing one is skipped),
 * then the usual ones, then a real execroot. Never the cwd of an unknown
 * layout: on a remote executor that is the input root, beside the executor's
 * own build directory (issue 16).
 */
function tempDirs(ctx: StoreContext): string[] {
  const env = ctx.env.TMPDIR;
  return [...(env && isAbsolute(env) ? [env] : []), '/tmp', '/var/tmp', '/dev/shm', ...(ctx.layout.kind === 'execroot' ? [ctx.cwd] : [])];
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

