import { isAbsolute, relative, resolve, sep } from 'node:path';
import { sandboxOf, type Bind, type StableCwd } from '../stableCwd.ts';

/**
 * Where an incremental directory really is. rules_rust users write
 * `-Cincremental=${output_base}/rustc-incremental`; rules_rust computes
 * `${output_base}` from the action's cwd, so inside a sandbox it names the
 * sandbox's own base (`<output_base>/sandbox/<strategy>/<N>`, read-only under
 * linux-sandbox and deleted after the action), or, with the stable cwd,
 * `<output_base>/sandbox/stable` (only inside the child's namespace). Such a
 * directory is the store at the same relative place under the real output
 * base: bound there inside the namespace (the command line stays identical in
 * every build), or passed as the real path when there is no namespace.
 */
export type StoreLocation =
  | { kind: 'store'; real: string; rustcDir: string; bind?: Bind }
  /** Relative, or inside the action's own directory: the sandbox's business (`--copy-seed`). */
  | { kind: 'action' };

function isUnder(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * `dir` as rustc will see it (after `--subst`), the action's cwd, the child's
 * stable cwd if any, and `${output_base}` as the child was given it (from
 * subst.ts: `<ob>/sandbox/<strategy>/<N>`, `<ob>/sandbox/stable`, or the
 * sandbox's execroot itself where `external/` is a real directory) → where
 * the store really is.
 */
/**
 * Local and non-sandboxed worker actions run in the real `<output_base>/execroot/<ws>`.
 * Bazel 4.2.3 makes `external/` a real directory there whenever the workspace
 * has an external repository (every rules_rust workspace), and upstream's
 * `${output_base}` then names the execroot itself: a DIR under it would land
 * in the execroot, which Bazel clears, so it is mapped to the real base too.
 */
function execrootBase(cwd: string): string | undefined {
  return /^(.+)\/execroot\/[^/]+$/.exec(cwd)?.[1];
}

export function locateStore(dir: string, cwd: string, stable: StableCwd | undefined, outputBase: string): StoreLocation {
  const pwd = stable?.path ?? cwd;
  if (!isAbsolute(dir)) return { kind: 'action' };
  const seen = resolve(dir);
  const base = sandboxOf(cwd)?.outputBase ?? execrootBase(cwd);
  if (base !== undefined && outputBase !== base && isUnder(seen, outputBase) && (outputBase === pwd || !isUnder(seen, pwd))) {
    const real = resolve(base, relative(outputBase, seen));
    // In the namespace: the real directory appears at the path rustc was given.
    if (stable) return { kind: 'store', real, rustcDir: seen, bind: { real, at: seen } };
    return { kind: 'store', real, rustcDir: real };
  }
  if (seen === pwd || isUnder(seen, pwd)) return { kind: 'action' };
  // An absolute directory outside the action (e.g. /var/tmp/x) is a store as it is,
  // unless the tmpfs over <output_base>/sandbox would hide it from the child.
  if (stable && (seen === stable.hidden || seen.startsWith(stable.hidden + sep))) return { kind: 'action' };
  return { kind: 'store', real: seen, rustcDir: seen };
}
