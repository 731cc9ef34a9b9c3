/**
 * Where a seed's symlinks may lead. A seed can come from a shared cache, and
 * seedwrap often runs as root: a symlink `x.o -> /etc/shadow` must never
 * become a hard link to (or a copy of) /etc/shadow in DEST. A symlink is
 * followed only when its resolved target lies inside the seed tree itself, or
 * inside the real execroot's output tree (`<output_base>/execroot/<ws>/bazel-out`)
 * of the output base the action runs in: a Bazel sandbox stages every input,
 * a seed tree artifact's files included, as a symlink into that tree.
 * Everything else is skipped and reported (walk.ts).
 */
import { realpathSync } from 'node:fs';
import { bazelLayout } from '../bazelLayout.ts';

/**
 * `<output_base>/execroot/<ws>/bazel-out` for an action's cwd, or undefined
 * when the cwd is not one Bazel makes (bazelLayout.ts checks the shape
 * against the real directories, so an output user root named `…/sandbox/…`
 * does not lend its seeds another output base's tree).
 */
export function outputTreeOf(cwd: string): string | undefined {
  const layout = bazelLayout(cwd);
  return layout.kind === 'unknown' ? undefined : layout.bazelOut;
}

export interface Scope {
  /** The real directories a followed symlink may resolve into: the seed's real path, then the output tree if it exists. */
  roots: string[];
  /** DEST's real path: a directory symlink leading to DEST or one of its ancestors would put DEST inside the seed. */
  dest: string;
}

export function symlinkScope(seedRoot: string, cwd: string, realDest: string): Scope {
  const roots = [realpathSync.native(seedRoot)];
  const tree = outputTreeOf(cwd);
  const realTree = tree === undefined ? undefined : realOrUndefined(tree);
  if (realTree !== undefined && !roots.includes(realTree)) roots.push(realTree);
  return { roots, dest: realDest };
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined; // no such tree: nothing may point into it
  }
}

/** Whether the real path `real` is one of `roots` or lies below one. */
export function isWithin(real: string, roots: readonly string[]): boolean {
  return roots.some((root) => real === root || real.startsWith(root.endsWith('/') ? root : `${root}/`));
}
