import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * `--stable-cwd true`: run the child from a working directory whose absolute
 * path is the same on every build, even inside a Bazel sandbox.
 *
 * rustc hashes its working directory into an incremental session and ignores
 * a session made under another one; a sandboxed action runs in
 * `<output_base>/sandbox/<strategy>/<N>/execroot/<ws>`, and N changes on every
 * action, so a seed is never reused there. Inside a sandbox seedwrap starts the
 * child in a private mount namespace that hides `<output_base>/sandbox` under
 * an empty tmpfs and binds the sandbox's execroot at
 * `<output_base>/sandbox/stable/execroot/<ws>` (a sandboxed worker's
 * `<output_base>/bazel-workers/worker-N-<Mnemonic>/<ws>` likewise, at
 * `<output_base>/bazel-workers/stable/execroot/<ws>`): the child sees exactly the
 * sandbox's files (declared inputs only) and every write lands in the sandbox,
 * where Bazel collects it. `${pwd}` then names the stable path, so rules_rust's
 * `--remap-path-prefix=${pwd}=` keeps outputs free of sandbox paths. The
 * namespace and its mounts end with the child. Outside a sandbox the cwd is
 * already stable and nothing changes.
 */
export interface StableCwd {
  /** What `${pwd}` and OUT_DIR are computed from: where the child runs. */
  path: string;
  /** Wraps the child's command line so it starts at `path`. */
  wrap(program: string, args: readonly string[]): [string, string[]];
}

/**
 * The per-action working directories Bazel 4.2.3 makes, and the directory that
 * holds each kind (hidden under the tmpfs): a sandboxed action's
 * `<output_base>/sandbox/<strategy>/<N>/execroot/<ws>`, and a sandboxed
 * worker's `<output_base>/bazel-workers/worker-<N>-<Mnemonic>/<ws>`
 * (`--worker_sandboxing`: one directory per worker process, so requests
 * served by worker 1 and worker 2 would see different paths).
 */
const SANDBOXES: Array<{ shape: RegExp; hidden: string }> = [
  { shape: /^(.+)\/sandbox\/[^/]+\/[^/]+\/execroot\/([^/]+)$/, hidden: 'sandbox' },
  { shape: /^(.+)\/bazel-workers\/worker-\d+-[^/]+\/([^/]+)$/, hidden: 'bazel-workers' },
];

/** The output base, the workspace name and the hidden directory of a sandboxed cwd, or undefined outside a sandbox. */
function sandboxOf(cwd: string): { outputBase: string; workspace: string; hidden: string } | undefined {
  for (const { shape, hidden } of SANDBOXES) {
    const m = shape.exec(cwd);
    if (m) return { outputBase: m[1]!, workspace: m[2]!, hidden };
  }
  return undefined;
}

// Runs inside the new namespace, as `sh -c SCRIPT sh MOUNT MKDIR BASE STABLE PROGRAM ARGS...`.
// `.` is the sandbox directory: once the tmpfs hides it, only the kernel's
// reference from our cwd still names it, hence --no-canonicalize.
const SCRIPT = [
  'mount=$1 mkdir=$2 base=$3 stable=$4',
  'shift 4',
  '"$mount" -t tmpfs seedwrap-stable-cwd "$base" || exit 125',
  '"$mkdir" -p "$stable" || exit 125',
  '"$mount" --no-canonicalize --bind . "$stable" || exit 125',
  'cd "$stable" || exit 125',
  'exec "$@"',
].join('\n');

/**
 * Bazel actions often have no PATH, so the helpers are found by absolute path.
 */
function findTool(name: string): string | undefined {
  return ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => `${d}/${name}`).find((p) => existsSync(p));
}

export type StableCwdPlan = { kind: 'unchanged' } | { kind: 'stable'; stable: StableCwd } | { kind: 'unavailable'; reason: string };

export function planStableCwd(cwd: string): StableCwdPlan {
  const sandbox = sandboxOf(cwd);
  if (!sandbox) return { kind: 'unchanged' };
  const { outputBase, workspace, hidden } = sandbox;
  const unshare = findTool('unshare');
  const mount = findTool('mount');
  const mkdir = findTool('mkdir');
  const sh = findTool('sh');
  if (!unshare || !mount || !mkdir || !sh) return { kind: 'unavailable', reason: 'util-linux unshare and mount are not installed' };
  const namespaces = chooseNamespaces(unshare);
  if (!namespaces) return { kind: 'unavailable', reason: 'no mount namespace can be created here (no privilege and no unprivileged user namespaces)' };
  const base = `${outputBase}/${hidden}`;
  const path = `${base}/stable/execroot/${workspace}`;
  return {
    kind: 'stable',
    stable: {
      path,
      wrap: (program, args) => [unshare, [...namespaces, '--propagation', 'private', sh, '-c', SCRIPT, 'sh', mount, mkdir, base, path, program, ...args]],
    },
  };
}

/**
 * A mount namespace alone needs CAP_SYS_ADMIN (root, or linux-sandbox, which
 * runs actions with full capabilities in a namespace of its own); an
 * unprivileged user needs a user namespace mapping them to root as well.
 * Probed once per process (one-shot: once per action; a worker: once), only
 * when a stable cwd is asked for inside a sandbox.
 */
let probed: { flags: string[] | undefined } | undefined;

function chooseNamespaces(unshare: string): string[] | undefined {
  probed ??= { flags: [['--mount'], ['--user', '--map-root-user', '--mount']].find((flags) => spawnSync(unshare, [...flags, '--propagation', 'private', '/bin/true'], { stdio: 'ignore' }).status === 0) };
  return probed.flags;
}
