import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, fstatSync, lstatSync, mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { BazelLayout } from '../bazelLayout.ts';
import { describe, isSystemError } from '../errors.ts';
import { closeDir, createExclusive, entryPath, openSubdir, withDir, type DirHandle } from '../fsSafe.ts';
import { namespaceCwd, type Bind, type StableCwd } from '../stableCwd.ts';
import type { StoreLocation } from '../store/sandboxPaths.ts';
import { compilerIdentity } from './compilerId.ts';
import { executorConfig, STORE_VAR, type ExecutorConfig } from './config.ts';

/**
 * The executor store (docs/executor-store.md): on a remote executor the action
 * runs in `<build>/<id>/root`, a new `<id>` every time, and rules_rust's
 * `--remap-path-prefix=${pwd}=.` and rustc's tracked cwd change with it, so
 * rustc never reuses a session. When the executor's own configuration names a
 * store and its build directory, the child runs in a private mount namespace
 * at `<build>/.seedwrap-stable/root` (an empty tmpfs over
 * `<build>/.seedwrap-stable`, the input root bound there: every action has its
 * own namespace, so concurrent actions never see each other) and
 * `<store>/<tenant>/<compiler>` is bound at `<build>/.seedwrap-stable/incremental`.
 * From there the local store's code does the rest (src/store/index.ts):
 * partitions, external crates, the exit-101 retry, the cold fallback, eviction.
 */
export interface ExecutorPlan {
  /** Where the child runs (the stable cwd). */
  stable: StableCwd;
  /** The store as src/store/index.ts takes it, in place of the one -C incremental names. */
  location: Extract<StoreLocation, { kind: 'store' }>;
}

/** The stable directory inside the build directory: hidden by the tmpfs, one per action namespace. */
export const STABLE_DIR = '.seedwrap-stable';

/**
 * `args` is the child's argv as computed for the real cwd (the compiler's
 * identity needs only its program and `--sysroot`), `childEnv` its
 * environment, `env` the wrapper's own (where the executor's variables are).
 * Undefined when the executor store is not configured, or (after one warning)
 * when it cannot be used: the compile then goes on as for any unknown layout.
 */
export function planExecutor(layout: BazelLayout, cwd: string, args: readonly string[], childEnv: Record<string, string | undefined>, env: Record<string, string | undefined>, warn: (line: string) => void, debug?: (line: string) => void): ExecutorPlan | undefined {
  // Bazel's own layouts (local execroot, sandbox, sandboxed worker) keep the local store's rules.
  if (layout.kind !== 'unknown') return undefined;
  const cfg = executorConfig(env, cwd);
  if (cfg.kind === 'none') return undefined;
  const refuse = (reason: string) => void warn(`executor store: ${reason}; compiling from cold`);
  if (cfg.kind === 'refused') return refuse(cfg.reason);
  const { buildDir } = cfg.config;
  const base = join(buildDir, STABLE_DIR);
  if (!relative(base, cwd).startsWith('..')) return refuse(`the action's directory ${cwd} is inside ${base}`);
  // The namespace first: its probe is kept per process, rustc -vV costs ~10 ms.
  const plan = namespaceCwd(base, join(base, 'root'));
  if (plan.kind !== 'stable') return refuse(`${plan.kind === 'unavailable' ? plan.reason : 'no stable cwd'}`);
  const id = compilerIdentity(args, cwd, childEnv);
  if (typeof id !== 'string') return refuse(`no compiler identity: ${id.reason}`);
  let real: string;
  try {
    real = storeDir(cfg.config, id);
    ensureRealDir(base);
  } catch (err) {
    return refuse(describe(err));
  }
  const at = join(base, 'incremental');
  const location = { kind: 'store' as const, real, rustcDir: at, bind: { real, at } };
  let failed: string | undefined;
  try {
    failed = mountsWork(plan.stable, cwd, location.bind, buildDir);
  } catch (err) {
    failed = describe(err);
  }
  if (failed) return refuse(`the namespace cannot be set up in ${buildDir}: ${failed}`);
  debug?.(`executor store ${JSON.stringify({ tenant: cfg.config.tenant, compiler: id, store: real, cwd: plan.stable.path })}`);
  return { stable: plan.stable, location };
}

/**
 * `<store>/<tenant>/<compiler>`, made level by level without following a
 * symlink: each level must be a real directory owned by this user (an action
 * that planted a symlink there gets a refusal, not another tenant's state).
 */
function storeDir(cfg: ExecutorConfig, compiler: string): string {
  const uid = process.geteuid?.();
  const made = withDir(cfg.store, (root) => {
    let dir: DirHandle = root;
    try {
      for (const name of [cfg.tenant, compiler]) {
        try {
          mkdirSync(entryPath(dir, name), { mode: 0o700 });
        } catch (err) {
          if (!isSystemError(err, 'EEXIST')) throw err;
        }
        // O_NOFOLLOW|O_DIRECTORY: a symlink or a file planted at the name is refused here.
        const sub = openSubdir(dir, name);
        if (!sub) throw new Error(`${dir.path}/${name} is not a directory (a symlink or a file)`);
        if (dir !== root) closeDir(dir);
        dir = sub;
        if (uid !== undefined && fstatSync(dir.fd).uid !== uid) throw new Error(`${dir.path} under ${STORE_VAR} is not owned by this user`);
      }
      return dir.path;
    } finally {
      if (dir !== root) closeDir(dir);
    }
  });
  if (made === undefined) throw new Error(`${STORE_VAR}="${cfg.store}" is not a directory any more`);
  return made;
}

function ensureRealDir(dir: string, mode = 0o755): void {
  try {
    mkdirSync(dir, { mode });
  } catch (err) {
    if (!isSystemError(err, 'EEXIST')) throw err;
  }
  if (!lstatSync(dir).isDirectory()) throw new Error(`${dir} is not a directory (a symlink or a file)`);
}

/**
 * Whether the namespace's mounts work for this build directory and store:
 * tried with `true` until it worked once, then remembered by a marker named
 * after the build directory's path, device and filesystem type. The marker
 * lies in the tenant's directory, not in the store proper, whose root must
 * hold only the store's own names to be managed (src/store/owner.ts). A try
 * costs a namespace and five mount or mkdir processes: 65-195 ms (three means
 * of 20 at a load of 15) against 6-32 ms for a bare unshare. The marker is
 * made with fsSafe's O_EXCL|O_NOFOLLOW, which never follows a planted symlink.
 */
function mountsWork(stable: StableCwd, cwd: string, bind: Bind, buildDir: string): string | undefined {
  const st = statSync(buildDir);
  const mark = join(dirname(bind.real), `.seedwrap-mounts-ok-${createHash().update(`${buildDir}\0${st.dev}\0${statfsSync(buildDir).type}`).digest('hex').slice(0, 16)}`);
  if (isFile(mark)) return undefined;
  const failed = tryNamespace(stable, cwd, [bind]);
  if (failed) return failed;
  createExclusive(mark, '', 0o600);
  return undefined;
}

/**
 * Whether the mounts work here, tried with `true` as the program: the
 * probe of stableCwd.ts shows that a namespace can be made, not that a tmpfs
 * and binds can be mounted in this build directory (a FUSE build directory, a
 * chroot without the store); a failure inside the real child would end the
 * action with exit 125.
 */
function tryNamespace(stable: StableCwd, cwd: string, binds: readonly Bind[]): string | undefined {
  const truth = ['/usr/bin/true', '/bin/true'].find((p) => existsSync(p));
  if (!truth) return 'no true(1) to try the namespace with';
  const [program, args] = stable.wrap(truth, [], binds);
  const r = spawnSync(program, args, { cwd, stdio: 'pipe', timeout: 30_000 });
  if (r.status === 0 && !r.error) return undefined;
  return r.error?.message ?? (r.stderr.toString().trim().split('\n').at(-1) || `exit ${r.status}`);
}

function isFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * node:crypto, loaded only when the executor store hashes something: this
 * module is bundled into the store's lazy chunk, and a top-level import made
 * every store action pay node:crypto's load (about 3 ms of CPU on Node 20,
 * src/sha256.ts; issue 17 item 4).
 */
function createHash() {
  return (createRequire('/')('node:crypto') as typeof import('node:crypto')).createHash('sha256');
}
