import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';

/**
 * The files a compile read, named as the compile names them, each with its
 * identity: device, inode, size, modification and change times. Inside Bazel
 * sandboxes every input is a symlink into the one execroot, so the metadata
 * and full actions of one build see the same inodes; an input edited or
 * regenerated since the producer started has another identity, and then the
 * consumer compiles itself. Content equality alone is not asked for: equal
 * identities are enough, and a hash of every source and extern would cost
 * more than it could save.
 */
export type InputIds = Array<[path: string, id: string]>;

/**
 * Stands for the directory rustc ran in, in an input's absolute path: rustc
 * names a build script's `OUT_DIR` files (`include!`) by the absolute path
 * rules_rust gives it, `${pwd}/bazel-out/…`, i.e. inside each action's own
 * sandbox, or under the stable cwd, which exists only inside the action's
 * namespace. Each side finds the file below its own working directory (the
 * stable cwd is a bind of it).
 */
const CWD = '${seedwrap:cwd}';

/**
 * `rustcCwd`: where rustc ran (the stable cwd, or `cwd` itself). `since`:
 * when rustc started (`startedAt`); an input changed since then (its ctime)
 * may not be the content rustc read, so it gets an identity that never
 * matches.
 */
export function inputIds(paths: Iterable<string>, cwd: string, rustcCwd = cwd, since?: bigint): InputIds {
  return [...new Set(paths)].map((p): [string, string] => {
    // A name that already looks like the token is never taken for it.
    if (p.startsWith('${seedwrap:')) return [p, 'error:token'];
    const rel = p.startsWith(`${rustcCwd}/`) ? p.slice(rustcCwd.length + 1) : undefined;
    return rel === undefined ? [p, identity(below(cwd, p), since)] : [`${CWD}/${rel}`, identity(`${cwd}/${rel}`, since)];
  });
}

/**
 * The first input whose identity differs here, or undefined. An input either
 * side could not stat never counts as the same file: two errors say nothing
 * about two contents.
 */
export function changedInput(ids: InputIds, cwd: string): string | undefined {
  return ids.find(([p, id]) => {
    const here = p.startsWith(`${CWD}/`) ? `${cwd}/${p.slice(CWD.length + 1)}` : below(cwd, p);
    return id.startsWith('error:') || identity(here) !== id;
  })?.[0];
}

/**
 * The path as rustc opened it from `cwd`: joined, never normalised
 * (path.resolve made `<cwd>//x` the root's `/x`, and folds `a/..` by name
 * where the kernel follows `a` first).
 */
function below(cwd: string, p: string): string {
  return isAbsolute(p) ? p : `${cwd}/${p}`;
}

/** Now, for `inputIds`'s `since`: taken before rustc starts. */
export function startedAt(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * How far a file's ctime may lag the clock: the kernel stamps files from a
 * coarse clock (a tick behind), and a file system with whole-second
 * timestamps (ext4 with small inodes, some NFS) truncates them.
 */
function lag(ctimeNs: bigint): bigint {
  return ctimeNs % 1_000_000_000n === 0n ? 2_000_000_000n : 50_000_000n;
}

function identity(path: string, since?: bigint): string {
  try {
    const st = statSync(path, { bigint: true });
    if (since !== undefined && st.ctimeNs + lag(st.ctimeNs) >= since) return 'error:changed-while-rustc-ran';
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (err) {
    return `error:${(err as NodeJS.ErrnoException).code ?? '?'}`;
  }
}

/**
 * What a producer sends: the identities of the compiler itself when the
 * command names it by a path (rules_rust's toolchain keeps its repository's
 * name, and so its path, across a toolchain bump, and a message left by the
 * old rustc must not stand for the new one's compile), of the `--extern`
 * files, and of the dep-info's `sources`, which alone get the `since` rule (in
 * the non-sandboxed worker a dependency's rmeta is stamped again while its
 * dependents' rustcs run: docs/pipelining.md, "The inputs").
 */
export function compileInputIds(args: readonly string[], sources: readonly string[], cwd: string, rustcCwd: string | undefined, since: bigint): InputIds {
  const compiler = args[0]?.includes('/') ? [args[0]] : [];
  return [...inputIds([...compiler, ...externPaths(args)], cwd, rustcCwd), ...inputIds(sources, cwd, rustcCwd, since)];
}

/** `--extern NAME=PATH` / `--extern=NAME=PATH` (a bare `--extern NAME` names a sysroot crate: no file). */
export function externPaths(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = a === '--extern' ? args[++i] : a.startsWith('--extern=') ? a.slice('--extern='.length) : undefined;
    const eq = value?.indexOf('=') ?? -1;
    if (value !== undefined && eq > 0) out.push(value.slice(eq + 1));
  }
  return out;
}

/**
 * The prerequisites in rustc's dep-info file (Makefile syntax: `target: a b`,
 * a space inside a name escaped as `\ `; `# env-dep:` comments skipped).
 */
export function depInfoPaths(path: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('#')) continue;
    const colon = line.search(/: |:$/);
    if (colon < 0) continue;
    for (const dep of line.slice(colon + 1).trim().split(/(?<!\\) +/)) if (dep !== '') out.push(dep.replace(/\\ /g, ' '));
  }
  return out;
}
