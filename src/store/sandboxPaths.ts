import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
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

/** `${output_base}` as rules_rust computes it for a cwd `<base>/execroot/<ws>`-shaped: two levels up. */
function actionBase(cwd: string): string {
  return dirname(dirname(cwd));
}

function isUnder(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * `dir` as rustc will see it (after `--subst`), the action's cwd and the child's
 * stable cwd if any → where the store really is.
 */
export function locateStore(dir: string, cwd: string, stable: StableCwd | undefined): StoreLocation {
  const pwd = stable?.path ?? cwd;
  const seen = resolve(pwd, dir);
  if (!isAbsolute(dir) || seen === pwd || isUnder(seen, pwd)) return { kind: 'action' };
  const sandbox = sandboxOf(cwd);
  if (!sandbox) return { kind: 'store', real: seen, rustcDir: seen };
  const base = actionBase(pwd);
  if (isUnder(seen, base)) {
    const real = resolve(sandbox.outputBase, relative(base, seen));
    // In the namespace: the real directory appears at the path rustc was given.
    if (stable) return { kind: 'store', real, rustcDir: seen, bind: { real, at: seen } };
    return { kind: 'store', real, rustcDir: real };
  }
  // An absolute directory outside the action (e.g. /var/tmp/x) is a store as it is,
  // unless the tmpfs over <output_base>/sandbox would hide it from the child.
  if (stable && (seen === stable.hidden || seen.startsWith(stable.hidden + sep))) return { kind: 'action' };
  return { kind: 'store', real: seen, rustcDir: seen };
}
