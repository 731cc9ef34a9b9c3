import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RustcInvocation } from './rustc-args.ts';

/** `rustc -vV` per (real path, size, mtime): a toolchain upgrade in place changes the key. */
const versions = new Map<string, Promise<string>>();

function rustcVersion(path: string, id: string, env: Record<string, string | undefined>): Promise<string> {
  let v = versions.get(id);
  if (!v) {
    v = new Promise((res, rej) => {
      execFile(path, ['-vV'], { env: env as NodeJS.ProcessEnv, timeout: 30_000 }, (err, stdout) => (err ? rej(err) : res(stdout)));
    });
    versions.set(id, v);
    v.catch(() => versions.delete(id));
  }
  return v;
}

/** The identity of a compile's incremental state, and a short hash of it. */
export interface CacheKey {
  hash: string;
  fields: Record<string, string>;
}

/**
 * The key is what makes two compiles the same crate's successive states:
 * the rustc binary and its version, the workspace (the request's absolute
 * cwd: rustc hashes its cwd into the session, so another cwd could not reuse
 * it anyway), crate name, target, emit kind (metadata-only never shares with
 * a full compile), and, so that `//a:lib` and `//b:lib` or a fastbuild and an
 * opt build of one crate do not take turns overwriting one directory, the
 * crate types, `--test` and `--out-dir`. Not the whole argument list: an edit
 * that adds a source file or a flag keeps the key, and rustc itself decides
 * whether the old session is still usable.
 */
export async function cacheKey(inv: RustcInvocation, cwd: string, env: Record<string, string | undefined>): Promise<CacheKey> {
  const path = await realpath(resolve(cwd, inv.program));
  const st = await stat(path);
  const version = await rustcVersion(path, `${path}\0${st.size}\0${st.mtimeMs}`, env);
  const fields = {
    rustc: path,
    version: version.trim(),
    workspace: cwd,
    crate: inv.crateName,
    target: inv.target,
    emit: `${inv.emit}${inv.metadataOnly ? ' (metadata only)' : ''}`,
    crateTypes: inv.crateTypes,
    test: String(inv.test),
    outDir: inv.outDir,
  };
  const hash = createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 24);
  return { hash, fields };
}
