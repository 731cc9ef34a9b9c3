import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { lstatOf, upstreamOutputBase, type BazelLayout } from '../bazelLayout.ts';
import type { Bind, StableCwd } from '../stableCwd.ts';

/**
 * Where an incremental directory really is: an allow-list. rules_rust users
 * write `-Cincremental=${output_base}/X` (upstream's `${output_base}`:
 * `<ob>/sandbox/<strategy>/<N>` in a sandbox, or the execroot itself where
 * `external/` is a real directory, as in every real rules_rust sandbox) or,
 * with rules_rust 0.9 and older, `${pwd}/../../X`. From a validated Bazel
 * layout (bazelLayout.ts) such a directory is the store `<real ob>/X` only
 * when X is a plain relative path whose first component is none of the
 * directories Bazel owns in an output base: bound at the path rustc was
 * given inside the stable cwd's namespace (the command line stays the same
 * in every build), or passed as the real path without one. Anything else
 * near the action is refused, never bound: the namespace must not put a
 * store over Bazel's execroot, sandboxes or workers.
 */
export type StoreLocation =
  | { kind: 'store'; real: string; rustcDir: string; bind?: Bind; pinFrom?: string }
  /** The action's own directory, left as given (PR #3925's `--copy-seed` tree under bazel-out/); `warning` when it is thrown away with a sandbox. */
  | { kind: 'action'; warning?: string }
  /** A private temporary directory instead: refused (`warn`: one warning line), or an unknown layout (one debug line). */
  | { kind: 'cold'; reason: string; warn: boolean };

/**
 * What Bazel 4.2.3 makes in an output base (a real one listed on this
 * machine: DO_NOT_BUILD_HERE, README, action_cache, bazel-workers,
 * command.log, command.profile.gz, execroot, external, install, java.log and
 * java.log.*, javalog.properties, lock, sandbox, server; jvm.out on a server
 * crash), plus `bazel-out` (an execroot's, where upstream's `${output_base}`
 * is the execroot) and any `_…` name (Bazel's private scratch directories).
 */
const BAZEL_OWNED = new Set(['DO_NOT_BUILD_HERE', 'README', 'action_cache', 'bazel-out', 'bazel-workers', 'command.log', 'command.profile.gz', 'execroot', 'external', 'install', 'javalog.properties', 'jvm.out', 'lock', 'sandbox', 'server']);

function bazelOwns(name: string): boolean {
  return BAZEL_OWNED.has(name) || name.startsWith('java.log') || name.startsWith('_');
}

/** `path` is `dir` or lies below it. */
function within(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const WHAT_TO_WRITE = 'write -Cincremental=${pwd}/../../rustc-incremental (or ${output_base}/rustc-incremental where rules_rust passes --subst output_base), or an absolute directory plus --sandbox_writable_path';

/**
 * `dir` as rustc will see it (after `--subst`), the action's cwd and its
 * validated layout, and the child's stable cwd if any → where the store is.
 */
export function locateStore(dir: string, cwd: string, layout: BazelLayout, stable: Pick<StableCwd, 'path'> | undefined): StoreLocation {
  const pwd = stable?.path ?? cwd;
  // rules_rust 0.9.0 passes only --subst pwd: `${output_base}` reaches rustc as text.
  const literal = /\$\{[^}]*\}?/.exec(dir);
  if (literal) return { kind: 'cold', warn: true, reason: `"${literal[0]}" was not substituted (rules_rust 0.9.0, for one, passes only --subst pwd=\${pwd}), so rustc's state would be thrown away; ${WHAT_TO_WRITE}` };
  const seen = resolve(pwd, dir);
  // A declared output (PR #3925's incremental tree) is the action's business.
  if (within(seen, `${pwd}/bazel-out`)) return { kind: 'action' };
  const sandboxed = layout.kind === 'sandbox' || layout.kind === 'worker';
  const throwaway: StoreLocation = { kind: 'action', warning: sandboxed ? `-C incremental=${dir} lies in the sandbox, which Bazel deletes after the action: rustc's state will be thrown away; ${WHAT_TO_WRITE}` : undefined };
  if (layout.kind === 'unknown') return unknownLayout(seen, cwd);
  if (!isAbsolute(dir)) return throwaway;

  const ob = layout.outputBase;
  // Upstream's `${output_base}` is the execroot itself where external/ is a real directory.
  const bases = lstatOf(`${cwd}/external`)?.isDirectory() ? [pwd] : [];
  if (bases.length === 0 && within(seen, pwd)) return throwaway;
  // `${pwd}/../..`: the sandbox's (or worker's) own base, and upstream's `${output_base}` without external/; the real output base last.
  bases.push(dirname(dirname(pwd)));
  if (!bases.includes(ob)) bases.push(ob);
  const base = bases.find((b) => within(seen, b));
  if (base === undefined) return outside(dir, seen, cwd, pwd, ob);
  const x = relative(base, seen);
  const first = x.split('/')[0]!;
  const refuse = (why: string): StoreLocation => ({ kind: 'cold', warn: true, reason: why });
  if (x === '') return refuse(`names the output base itself, not a directory in it`);
  if (bazelOwns(first)) return refuse(`${first} is Bazel's own directory in the output base (${ob}/${first}); the store must be a directory of its own there, e.g. ${ob}/rustc-incremental`);
  const real = `${ob}/${x}`;
  const link = firstSymlink(ob, x);
  if (link) return refuse(`${link} is a symbolic link; the store is never reached through one`);
  // Inside the namespace the real directory appears where rustc was told to look;
  // never over one of the action's own inputs (base = the execroot).
  if (stable && seen !== real) {
    if (base === pwd && lstatOf(`${cwd}/${first}`)) return refuse(`${first} is one of the action's inputs in its execroot`);
    return { kind: 'store', real, rustcDir: seen, bind: { real, at: seen }, pinFrom: ob };
  }
  return { kind: 'store', real, rustcDir: real };
}

/** A directory outside every base of a Bazel layout. */
function outside(dir: string, seen: string, cwd: string, pwd: string, ob: string): StoreLocation {
  if (within(cwd, seen) || within(pwd, seen) || within(ob, seen)) return { kind: 'cold', warn: true, reason: 'contains the action\'s own directories' };
  // A planted `external` symlink moves upstream's `${output_base}`: nothing under it becomes a store.
  const upstream = upstreamOutputBase(cwd);
  if (within(seen, upstream)) return { kind: 'cold', warn: true, reason: `lies under ${upstream}, where the execroot's external/ leads (outside the output base ${ob})` };
  if (dir.split('/').includes('..')) return { kind: 'cold', warn: true, reason: `".." leads out of the action's output base ${ob}` };
  // Another name for the output base (/proc/self/root/…, /proc/self/cwd, a link to it): the same rules, on where it really leads.
  const real = realOf(seen);
  if (real !== seen) {
    if (within(cwd, real) || within(ob, real)) return { kind: 'cold', warn: true, reason: `leads to ${real}, which contains the action's own directories` };
    const first = within(real, ob) ? relative(ob, real).split('/')[0]! : undefined;
    if (first !== undefined && bazelOwns(first)) return { kind: 'cold', warn: true, reason: `leads to ${real}: ${first} is Bazel's own directory in the output base (${ob}/${first})` };
  }
  // An absolute directory of the user's own (/var/cache/rustc-store): a store as it is.
  return { kind: 'store', real: seen, rustcDir: seen };
}

/**
 * Not a Bazel shape (a remote executor's `<build>/<id>/root`, a shell): no
 * stable cwd, so no reuse, and nothing in or above the cwd, under its
 * grandparent (an executor's build directory) or under upstream's
 * `${output_base}` is ever written; a private temporary directory instead. An absolute
 * directory of the user's own elsewhere stays a store as it is.
 */
function unknownLayout(seen: string, cwd: string): StoreLocation {
  // Not a Bazel shape (a remote executor's input root, a shell): nothing here
  // says which directories are the build's own, and `${pwd}/../..` from a
  // cwd one level below / is / itself (a test found seedwrap making
  // /rustc-incremental as root). So the compile is cold on purpose (issue 16),
  // unless the executor's own configuration names a store (src/executor/).
  return { kind: 'cold', warn: false, reason: `${cwd} is not a Bazel execroot, sandbox or worker directory (and no executor store is configured), so ${seen} is not used as a store` };
}

/** Where `path` really leads: the real path of its deepest existing ancestor, the rest appended. */
function realOf(path: string): string {
  const rest: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      return resolve(realpathSync(dir), ...rest);
    } catch {
      if (dirname(dir) === dir) return path;
      rest.unshift(basename(dir));
    }
  }
}

/** The first existing symlink among `<ob>/<x>`'s components below ob, or undefined. */
function firstSymlink(ob: string, x: string): string | undefined {
  let path = ob;
  for (const name of x.split('/')) {
    path = `${path}/${name}`;
    const st = lstatOf(path);
    if (!st) return undefined;
    if (st.isSymbolicLink()) return path;
  }
  return undefined;
}
