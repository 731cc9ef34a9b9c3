import { closeSync, constants, lstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { describe } from '../errors.ts';
import { bazelLayout } from '../bazelLayout.ts';
import { replaceLiteral } from '../wrapper/subst.ts';
import { sha256Hex } from '../sha256.ts';

/**
 * Where a crate's full compile (the producer) and its metadata action (the
 * consumer) meet: one Unix socket per rustc command, `<dir>/<key>.sock`.
 * The socket is its own liveness signal: it accepts only while the producer's
 * process lives (the kernel closes it when the process dies, however it dies,
 * and a connect to a dead one's file gets ECONNREFUSED), with no pid, which a
 * sandbox's own PID namespace would make meaningless anyway.
 */
export interface Rendezvous {
  /** What `net.listen`/`net.connect` take (a `/proc/self/fd` path when the real one is too long for sun_path). */
  socket: string;
  /** The real path, for messages and for removing a stale socket. */
  real: string;
  /** `<dir>/<key>.msg`: the message of a producer whose rmeta is final, for a metadata action that starts later. */
  finished: string;
  /** Releases the directory descriptor behind a `/proc/self/fd` path. */
  release(): void;
}

/** The store's own subdirectory; eviction skips names starting with a dot. */
export const STORE_SUBDIR = '.seedwrap-pipeline';

/** sun_path holds 108 bytes with its NUL; longer paths go through the directory's descriptor. */
const MAX_SOCKET_PATH = 100;

/**
 * The rendezvous directory: `<store>/.seedwrap-pipeline` when the store is
 * active (outside the sandbox, writable there by `--sandbox_writable_path`),
 * else `SEEDWRAP_PIPELINE_DIR` when the user set it. Never a shared /tmp
 * path by default: another user could plant a socket there and hand us an
 * rmeta. Either way it must be a real directory of ours that no one else can
 * write; otherwise the reason is returned and the action compiles itself.
 */
export function rendezvousDir(storeRoot: string | undefined, env: Record<string, string | undefined>): { dir: string } | { reason: string; userSet: boolean } | undefined {
  let dir: string;
  if (storeRoot !== undefined) {
    dir = join(storeRoot, STORE_SUBDIR);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return { reason: `cannot create ${dir}: ${describe(err)}`, userSet: false };
    }
  } else {
    const given = env.SEEDWRAP_PIPELINE_DIR;
    if (given === undefined || given === '') return undefined;
    if (!isAbsolute(given)) return { reason: `SEEDWRAP_PIPELINE_DIR=${given} is not an absolute path`, userSet: true };
    dir = given;
  }
  const reason = unsafeDir(dir);
  return reason === undefined ? { dir } : { reason, userSet: storeRoot === undefined };
}

/** A rendezvous directory must be a real directory of ours that no one else can write. */
function unsafeDir(dir: string): string | undefined {
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory()) return `${dir} is not a directory (a symlink is refused)`;
    if (process.getuid && st.uid !== process.getuid()) return `${dir} belongs to uid ${st.uid}, not to us`;
    if ((st.mode & 0o022) !== 0) return `${dir} is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
  } catch (err) {
    return `${dir}: ${describe(err)}`;
  }
  return undefined;
}

/** `ext` 'wsock': the worker's shared rustc (shared.ts), a protocol of its own beside the one-shot producer's. */
export function socketIn(dir: string, key: string, ext = 'sock'): Rendezvous {
  const real = join(dir, `${key}.${ext}`);
  const finished = join(dir, `${key}.msg`);
  if (real.length <= MAX_SOCKET_PATH) return { socket: real, real, finished, release: () => {} };
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  let open = true;
  return {
    socket: `/proc/self/fd/${fd}/${key}.sock`,
    real,
    finished,
    release: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/**
 * The action's own sandbox directory, `<ob>/sandbox/<strategy>/<N>` (a
 * sandboxed worker's `<ob>/bazel-workers/worker-<N>-<Mnemonic>`): the one part
 * of paths that differs between a crate's two actions. Undefined outside a sandbox.
 */
export function sandboxDirOf(cwd: string): string | undefined {
  const layout = bazelLayout(cwd);
  return layout.kind === 'sandbox' ? dirname(dirname(cwd)) : layout.kind === 'worker' ? dirname(cwd) : undefined;
}

/** The child's arguments with each `@P.expanded` (just written by prepareArgs, one argument per line) inlined. */
export function flatArgs(args: readonly string[], cwd: string): string[] {
  return args.flatMap((a) => (a.startsWith('@') ? readFileSync(resolve(cwd, a.slice(1)), 'utf8').split('\n').slice(0, -1) : [a]));
}

/**
 * The key of a rustc command, equal for a crate's metadata and full actions
 * and different for anything that could make their rmeta differ:
 * - the child's argv after substitution and `@paramfile` expansion (the
 *   expanded file's contents, not its name: Bazel names each action's param
 *   file after its own output), with the action's sandbox directory replaced by
 *   a token;
 * - the child's environment, normalised the same way (env! and option_env!);
 * - the real output base (outside a sandbox, the cwd itself): two builds in
 *   different output bases may run the same command at the same time over
 *   different sources, and only one build runs per output base at a time.
 * The files the compile reads are checked separately, by the consumer
 * (`inputs.ts`). seedwrap's own settings and the wrapper's debug switch are
 * not rustc's business, so one action may turn on debugging alone.
 */
export function rendezvousKey(flat: readonly string[], env: Readonly<Record<string, string>>, cwd: string): string {
  const varying = sandboxDirOf(cwd);
  const norm = (s: string) => (varying === undefined ? s : replaceLiteral(s, varying, '${seedwrap:sandbox}'));
  // One string hashed at once: the digest of the same updates made one by one.
  const parts: string[] = [];
  const put = (s: string) => void parts.push(`${Buffer.byteLength(s)}:${s}`);
  put('seedwrap-pipeline-1');
  const layout = bazelLayout(cwd);
  put(layout.kind === 'sandbox' || layout.kind === 'worker' ? layout.outputBase : cwd);
  put(String(flat.length));
  for (const arg of flat) put(norm(arg));
  for (const name of Object.keys(env).sort()) if (!ignoredVariable(name)) put(`${name}=${norm(env[name]!)}`);
  return sha256Hex(parts.join('')).slice(0, 32);
}

function ignoredVariable(name: string): boolean {
  return name.startsWith('SEEDWRAP_') || name === 'RULES_RUST_PROCESS_WRAPPER_DEBUG';
}
