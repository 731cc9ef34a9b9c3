import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The compiler's identity, one level of the executor store
 * (`<store>/<tenant>/<compiler>/`): the same crate compiled by two toolchains
 * never shares a directory, so neither throws the other's session away.
 *
 * It is a hash of `rustc -vV` (release, commit hash, host, LLVM) and of the
 * names of the sysroot's target libraries (`libstd-<hash>.rlib`: they change
 * with the standard library's build), never of a path: on an executor the
 * toolchain lies in each action's own input root (`<build>/<id>/root/external/…`),
 * so its path, inode and mtime change from action to action while the compiler
 * does not. Measured with rustc 1.95: `rustc -vV` costs 9-12 ms, a stat of the
 * binary 0.02 ms; the result is kept per process by the binary's path, size
 * and mtime, so a long-lived process asks once.
 */
const known = new Map<string, string>();

export function compilerIdentity(args: readonly string[], cwd: string, env: Record<string, string | undefined>): string | { reason: string } {
  const [program = ''] = args;
  const binary = program.includes('/') ? resolve(cwd, program) : program;
  let key = binary;
  try {
    const st = statSync(binary);
    key = `${realpathSync(binary)}\0${st.size}\0${st.mtimeMs}\0${sysrootArg(args) ?? ''}`;
  } catch {
    // Found through PATH, or missing: rustc -vV below says which.
  }
  const cached = known.get(key);
  if (cached) return cached;
  const r = spawnSync(binary, ['-vV'], { cwd, env: env as NodeJS.ProcessEnv, stdio: 'pipe', timeout: 60_000 });
  if (r.error || r.status !== 0) return { reason: `${program} -vV failed (${r.error?.message ?? r.stderr.toString().trim().split('\n').at(-1) ?? `exit ${r.status}`})` };
  const sysroot = resolve(cwd, sysrootArg(args) ?? dirname(dirname(realOr(binary))));
  const id = createHash().update(r.stdout).update('\0').update(targetLibraries(sysroot).join('\n')).digest('hex').slice(0, 16);
  known.set(key, id);
  return id;
}

function sysrootArg(args: readonly string[]): string | undefined {
  let v: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--sysroot') v = args[++i];
    else if (args[i]!.startsWith('--sysroot=')) v = args[i]!.slice('--sysroot='.length);
  }
  return v;
}

/** `<target>/<file>` for every file in `<sysroot>/lib/rustlib/<target>/lib/`. */
function targetLibraries(sysroot: string): string[] {
  const rustlib = resolve(sysroot, 'lib', 'rustlib');
  return list(rustlib).flatMap((target) => list(resolve(rustlib, target, 'lib')).map((f) => `${target}/${f}`)).sort();
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function realOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
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
