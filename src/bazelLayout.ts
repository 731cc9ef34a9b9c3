import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Where an action stands in Bazel's layout: the one module that knows it.
 * The stable cwd, the store's mapping, the seed's symlink scope and the
 * substitutions all ask it.
 *
 * Bazel 4.2.3 runs an action in one of three directories of an output base
 * `<ob>` (measured on this machine, see docs/store.md):
 * - `<ob>/execroot/<ws>`: local, standalone and non-sandboxed workers;
 * - `<ob>/sandbox/<strategy>/<N>/execroot/<ws>`: linux-sandbox,
 *   processwrapper-sandbox (a new N per action);
 * - `<ob>/bazel-workers/worker-<N>-<Mnemonic>/<ws>`: a sandboxed worker.
 * Anything else (a remote executor's `<build>/<id>/root`, a shell) is unknown.
 *
 * The shape of the cwd alone is not enough: an output user root may itself
 * contain `/sandbox/`. So a candidate is checked against what Bazel makes and
 * an action cannot plant before it starts: every directory from the output
 * base down to the cwd is a real directory, not a symlink; a sandbox's or a
 * worker's output base has its real `execroot/<ws>`; and a cwd whose parent
 * holds Bazel's `DO_NOT_BUILD_HERE` file is a real execroot, never a sandbox
 * (Bazel writes it into `<ob>/execroot/`; a sandbox's `execroot/` holds only
 * `<ws>`). Nothing here reads `external/`: it is an input the action's
 * inputs can shape (a planted symlink there is how upstream's output base is
 * moved). The cwd is taken as the kernel gives it (process.cwd() is already
 * canonical); the directories above the output base are the user's, not the
 * action's, and are not checked.
 *
 * Cost: 3 lstat calls for a local execroot, 6 for a sandboxed worker, 9 for
 * a sandbox, none for an unknown shape (32–56 µs measured, docs/store.md);
 * called once per action, and only for one that needs it.
 */
export type BazelLayout =
  | {
      kind: 'execroot' | 'sandbox' | 'worker';
      /** The real output base. */
      outputBase: string;
      workspace: string;
      /** The real execroot `<ob>/execroot/<ws>`. */
      execroot: string;
      /** The real `<ob>/execroot/<ws>/bazel-out` (it may not exist yet). */
      bazelOut: string;
      /** The directory of per-action directories (`<ob>/sandbox`, `<ob>/bazel-workers`); undefined for a real execroot. */
      actionDirs?: string;
      /** linux-sandbox, processwrapper-sandbox, …; the worker's `worker-<N>-<Mnemonic>`. */
      strategy?: string;
    }
  | { kind: 'unknown' };

const SANDBOX = /^(.+)\/sandbox\/([^/]+)\/([^/]+)\/execroot\/([^/]+)$/;
const WORKER = /^(.+)\/bazel-workers\/(worker-\d+-[^/]+)\/([^/]+)$/;
const EXECROOT = /^(.+)\/execroot\/([^/]+)$/;

export function bazelLayout(cwd: string): BazelLayout {
  const s = SANDBOX.exec(cwd);
  if (s) {
    const [, ob, strategy, n, ws] = s as unknown as [string, string, string, string, string];
    // A real execroot under an output user root named `…/sandbox/…` has this
    // shape too: Bazel's marker in its parent tells them apart (a sandbox's
    // `execroot/` holds only `<ws>`); with neither proof it is unknown.
    if (isFile(`${dirname(cwd)}/DO_NOT_BUILD_HERE`)) return realDirs(dirname(dirname(cwd)), ['execroot', ws]) ? found('execroot', dirname(dirname(cwd)), ws) : UNKNOWN;
    return realDirs(`${ob}/sandbox`, [strategy, n, 'execroot', ws]) && realDirs(ob, ['execroot', ws]) ? found('sandbox', ob, ws, `${ob}/sandbox`, strategy) : UNKNOWN;
  }
  const w = WORKER.exec(cwd);
  if (w) {
    const [, ob, worker, ws] = w as unknown as [string, string, string, string];
    if (realDirs(`${ob}/bazel-workers`, [worker, ws]) && realDirs(ob, ['execroot', ws])) return found('worker', ob, ws, `${ob}/bazel-workers`, worker);
  }
  const e = EXECROOT.exec(cwd);
  if (e) {
    const [, ob, ws] = e as unknown as [string, string, string];
    if (realDirs(ob, ['execroot', ws])) return found('execroot', ob, ws);
  }
  return UNKNOWN;
}

const UNKNOWN: BazelLayout = { kind: 'unknown' };

function found(kind: 'execroot' | 'sandbox' | 'worker', ob: string, ws: string, actionDirs?: string, strategy?: string): BazelLayout {
  const execroot = `${ob}/execroot/${ws}`;
  return { kind, outputBase: ob, workspace: ws, execroot, bazelOut: `${execroot}/bazel-out`, actionDirs, strategy };
}

/** `top` and each of `below` under it are real directories (lstat: a symlink is not one). */
function realDirs(top: string, below: readonly string[]): boolean {
  let dir = top;
  for (const name of ['', ...below]) {
    if (name !== '') dir = `${dir}/${name}`;
    if (!lstatOf(dir)?.isDirectory()) return false;
  }
  return true;
}

function isFile(path: string): boolean {
  return lstatOf(path)?.isFile() ?? false;
}

/**
 * lstat, or undefined when there is nothing to see: not only ENOENT (a path
 * through a file gives ENOTDIR, an unreadable directory EACCES), so a
 * question about the layout never fails an action.
 */
export function lstatOf(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * upstream process_wrapper's `${output_base}`: the parent of the canonical
 * `./external`, else the canonical cwd's grandparent, else the cwd (spec
 * §subst). Kept byte-for-byte for the substitution values only: `external`
 * is the action's to shape, so nothing that decides where seedwrap writes or
 * binds may use it (see the store's mapping in src/store/sandboxPaths.ts).
 */
export function upstreamOutputBase(cwd: string): string {
  try {
    return dirname(realpathSync(resolve(cwd, 'external')));
  } catch {
    try {
      return dirname(dirname(realpathSync(cwd)));
    } catch {
      return cwd;
    }
  }
}
