import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type BazelLayout } from './bazelLayout.ts';
import { forget, memoPath, recall, remember } from './namespaceMemo.ts';

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
  /** The directory the tmpfs hides (`<output_base>/sandbox`). */
  hidden: string;
  /**
   * Wraps the child's command line so it starts at `path`; each bind makes a
   * real directory (`real`) appear at `at` inside the namespace (the store).
   */
  wrap(program: string, args: readonly string[], binds?: readonly Bind[]): [string, string[]];
  /**
   * Set when the namespace flags came from a memo instead of a probe in this
   * process: after a failed run, probes again; the reason when no namespace
   * can be made after all (the memo is then forgotten), undefined when it can.
   */
  recheck?: () => string | undefined;
}

/** A real directory bound at another path inside the child's namespace. */
export interface Bind {
  real: string;
  at: string;
  /**
   * `real` pinned by this descriptor (the store, src/store/index.ts): the
   * child gets it as its fd 3 (`bindFds`), and the namespace runs nothing
   * unless the bind at `at` is that very directory.
   */
  fd?: number;
}

/** The descriptors the child must inherit (as fd 3 on) for `wrap`'s binds. */
export function bindFds(binds: readonly Bind[] | undefined): number[] {
  return (binds ?? []).flatMap((b) => (b.fd === undefined ? [] : [b.fd]));
}

/** Each bind's three words for SCRIPT: source, mount point, and the pin to check it against (or `-`). */
function bindSources(binds: readonly Bind[]): string[] {
  let next = 3;
  return binds.flatMap((b) => [b.real, b.at, b.fd === undefined ? '-' : `/proc/self/fd/${next++}`]);
}

// Runs inside the new namespace, as
// `sh -c SCRIPT sh MOUNT BASE STABLE N [REAL AT PIN]... PROGRAM ARGS...`.
// `.` is the sandbox directory: once the tmpfs hides it, only the kernel's
// reference from our cwd still names it, hence --no-canonicalize. The N binds
// come after it: their mount points lie in the tmpfs, their sources outside it.
// util-linux's X-mount.mkdir makes each mount point (mount(8) since 2.23;
// unshare's --propagation needs 2.27), so a mount is the only process per
// step: a separate mkdir cost one more fork and exec each (issue 17 item 4).
// A pinned bind (the store) carries a third word, its descriptor as the
// shell sees it (`/proc/self/fd/3`, inherited through unshare), `-` for the
// others: the bind resolves its source by path, so right after it the mount
// point must be that very directory (`-ef`: the same device and inode, no
// fork); if not, an empty tmpfs is mounted over it, so rustc keeps its flag
// (the crate hash) but compiles cold into memory that ends with the
// namespace. A directory above the store swapped for a symlink meanwhile
// then never chooses where rustc writes, and the build does not fail. Binding
// `/proc/self/fd/3` itself with --no-canonicalize is refused (EINVAL: the
// descriptor's mount belongs to the parent's mount namespace, not this copy;
// util-linux 2.38.1 here). fds 3 and 4 are closed before the exec.
const SCRIPT = [
  'mount=$1 base=$2 stable=$3 n=$4',
  'shift 4',
  '"$mount" -t tmpfs seedwrap-stable-cwd "$base" || exit 125',
  '"$mount" --no-canonicalize --bind -o X-mount.mkdir . "$stable" || exit 125',
  'while [ "$n" -gt 0 ]; do "$mount" --bind -o X-mount.mkdir "$1" "$2" || exit 125; [ "$3" = - ] || [ "$2" -ef "$3" ] || { echo "seedwrap: $1 changed while being bound at $2 (a directory on its path was swapped); compiling from cold in a private tmpfs over it" >&2; "$mount" -t tmpfs seedwrap-cold "$2" || exit 125; }; shift 3; n=$((n - 1)); done',
  'exec 3<&- 4<&-',
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

/**
 * Only a sandbox or a sandboxed worker needs one: the layout comes from
 * bazelLayout.ts, which checked it against the file system (an output user
 * root named `…/sandbox/…` is not a sandbox, so its execroot is never hidden).
 */
export function planStableCwd(layout: BazelLayout, memoDir?: (path: string) => string | undefined): StableCwdPlan {
  if (layout.kind !== 'sandbox' && layout.kind !== 'worker') return { kind: 'unchanged' };
  const base = layout.actionDirs!;
  return namespaceCwd(base, `${base}/stable/execroot/${layout.workspace}`, memoDir);
}

/**
 * The child runs at `path` in a private mount namespace where an empty tmpfs
 * hides `base` (a directory that must exist) and the action's cwd is bound at
 * `path` inside it. Shared by the sandbox shapes above and the executor store
 * (src/executor/), whose `base` lies in the executor's build directory.
 */
export function namespaceCwd(base: string, path: string, memoDir?: (path: string) => string | undefined): StableCwdPlan {
  const unshare = findTool('unshare');
  const mount = findTool('mount');
  const sh = findTool('sh');
  if (!unshare || !mount || !sh) return { kind: 'unavailable', reason: 'util-linux unshare and mount are not installed' };
  const dir = memoDir?.(path);
  const memo = dir === undefined ? undefined : memoPath(dir, unshare);
  const chosen = chooseRemembered(unshare, memo);
  if ('reason' in chosen) return { kind: 'unavailable', reason: `no mount namespace can be created here: ${chosen.reason}` };
  const { flags: namespaces, recalled } = chosen;
  return {
    kind: 'stable',
    stable: {
      path,
      hidden: base,
      wrap: (program, args, binds = []) => [
        unshare,
        [...namespaces, '--propagation', 'private', sh, '-c', SCRIPT, 'sh', mount, base, path, String(binds.length), ...bindSources(binds), program, ...args],
      ],
      recheck: recalled && memo ? () => recheck(unshare, memo) : undefined,
    },
  };
}

/**
 * A mount namespace alone needs CAP_SYS_ADMIN (root, or linux-sandbox, which
 * runs actions with full capabilities in a namespace of its own); an
 * unprivileged user needs a user namespace mapping them to root as well.
 * Probed only when a stable cwd is wanted inside a sandbox. A success is kept
 * for the process, and in the memo file `memo` when given (namespaceMemo.ts:
 * a one-shot action then spawns no probe); a failure is not (a worker lives
 * for hours, and one transient failure must not turn reuse off for all of them).
 */
const probed = new Map<string, string[]>();

export function chooseNamespaces(unshare: string): string[] | { reason: string } {
  const chosen = chooseRemembered(unshare, undefined);
  return 'reason' in chosen ? chosen : chosen.flags;
}

/** chooseNamespaces, reading and writing the memo file `memo` as well; `recalled` when the flags came from it. */
export function chooseRemembered(unshare: string, memo: string | undefined): { flags: string[]; recalled: boolean } | { reason: string } {
  const known = probed.get(unshare);
  if (known) return { flags: known, recalled: false };
  const recalled = memo === undefined ? undefined : recall(memo);
  if (recalled) return { flags: recalled, recalled: true };
  const result = probeNamespaces(unshare);
  if (!Array.isArray(result)) return result;
  probed.set(unshare, result);
  if (memo !== undefined) remember(memo, result);
  return { flags: result, recalled: false };
}

/** After a failed run under recalled flags: whether they still work (undefined) or why not (the memo forgotten). */
function recheck(unshare: string, memo: string): string | undefined {
  const result = probeNamespaces(unshare);
  if (Array.isArray(result) && recall(memo)?.join(' ') === result.join(' ')) return undefined;
  forget(memo);
  if (Array.isArray(result)) {
    // Other flags work now: keep those for the process; the rerun uses them.
    probed.set(unshare, result);
    return `the remembered namespace flags no longer work, ${result.join(' ')} does`;
  }
  return result.reason;
}

/**
 * Tries each way to make a mount namespace; the flags of the first that works,
 * or what each attempt reported. stdio is pipes, never 'ignore': Node would
 * open /dev/null for that, and inside linux-sandbox /dev can be read-only with
 * a /dev/null that fails to open (EROFS), which once made this probe report a
 * missing privilege that was there.
 */
function probeNamespaces(unshare: string): string[] | { reason: string } {
  const failures: string[] = [];
  for (const flags of [['--mount'], ['--user', '--map-root-user', '--mount']]) {
    const r = spawnSync(unshare, [...flags, '--propagation', 'private', '/bin/true'], { stdio: 'pipe', timeout: 10_000 });
    if (r.status === 0 && !r.error) return flags;
    failures.push(`${[unshare, ...flags].join(' ')}: ${whyFailed(r)}`);
  }
  return { reason: failures.join('; ') };
}

function whyFailed(r: SpawnSyncReturns<Buffer>): string {
  if (r.error) return r.error.message;
  const said = r.stderr.toString().trim().split('\n').at(-1);
  return said || (r.signal ? `killed by ${r.signal}` : `exit ${r.status}`);
}
