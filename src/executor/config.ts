import { lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, normalize, relative, sep } from 'node:path';
import { describe } from '../errors.ts';

/**
 * The executor store's configuration: environment variables the executor's
 * runner sets for every action (Buildbarn's `runners[].environmentVariables`,
 * see docs/executor-store.md). They are not in the action's `environment_variables`,
 * so they never enter an action key, and the same action runs with or
 * without them.
 *
 * An action can set them itself too. What a forged value may do is bounded
 * here: the store must be an existing, absolute, symlink-free directory owned
 * by the user seedwrap runs as and writable by no one else (seedwrap never
 * creates it, so a value on an executor that has not opted in names at most a
 * directory the action could write anyway), and everything a compile touches
 * lies under `<store>/<tenant>/<compiler>/`, which is the only part bound into
 * the child's namespace.
 */
export const STORE_VAR = 'SEEDWRAP_EXECUTOR_STORE';
export const BUILD_DIR_VAR = 'SEEDWRAP_EXECUTOR_BUILD_DIR';
export const TENANT_VAR = 'SEEDWRAP_EXECUTOR_TENANT';

export interface ExecutorConfig {
  store: string;
  buildDir: string;
  tenant: string;
}

export type ConfigResult = { kind: 'none' } | { kind: 'refused'; reason: string } | { kind: 'config'; config: ExecutorConfig };

/** Whether the environment asks for the executor store at all (cheap: names only). */
export function wantsExecutorStore(env: Record<string, string | undefined>): boolean {
  return !!env[STORE_VAR] || !!env[BUILD_DIR_VAR];
}

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Reads and checks the three variables against the action's `cwd`; one reason when refused. */
export function executorConfig(env: Record<string, string | undefined>, cwd: string): ConfigResult {
  const store = env[STORE_VAR] ?? '';
  const buildDir = env[BUILD_DIR_VAR] ?? '';
  const tenant = env[TENANT_VAR] || 'default';
  if (store === '' && buildDir === '') return { kind: 'none' };
  if (store === '') return { kind: 'refused', reason: `${BUILD_DIR_VAR} is set but ${STORE_VAR} is not` };
  if (buildDir === '') return { kind: 'refused', reason: `${STORE_VAR} is set but ${BUILD_DIR_VAR} is not` };
  if (!TENANT.test(tenant)) return { kind: 'refused', reason: `${TENANT_VAR}="${tenant}" is not a name of 1-64 letters, digits, '.', '_' or '-' starting with a letter or digit` };
  const why = checkDir(STORE_VAR, store, true) ?? checkDir(BUILD_DIR_VAR, buildDir, false);
  if (why) return { kind: 'refused', reason: why };
  if (isUnder(store, buildDir) || isUnder(buildDir, store) || store === buildDir) {
    return { kind: 'refused', reason: `${STORE_VAR}="${store}" and ${BUILD_DIR_VAR}="${buildDir}" overlap (the executor empties its build directory)` };
  }
  const realCwd = realOr(cwd);
  if (!isUnder(realCwd, buildDir)) return { kind: 'refused', reason: `the action's directory ${cwd} is not under ${BUILD_DIR_VAR}="${buildDir}"` };
  return { kind: 'config', config: { store, buildDir, tenant } };
}

/**
 * An absolute, normalised path whose every component is a real directory (no
 * symlink anywhere: realpath gives it back unchanged). The store must also be
 * owned by this user and not writable by group or others: a directory made for
 * the purpose by the executor's operator, never one seedwrap creates.
 */
function checkDir(name: string, path: string, owned: boolean): string | undefined {
  const said = `${name}="${path}"`;
  if (!isAbsolute(path)) return `${said} is not an absolute path`;
  if (normalize(path) !== path || path === '/' || path.endsWith(sep)) return `${said} is not a normalised absolute path (no '.', '..', '//' or trailing '/'; not '/')`;
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    return `${said} cannot be resolved (${describe(err)}); the executor must create it`;
  }
  if (real !== path) return `${said} goes through a symlink (it resolves to ${real})`;
  const st = lstatSync(path);
  if (!st.isDirectory()) return `${said} is not a directory`;
  if (!owned) return undefined;
  const uid = process.geteuid?.();
  if (uid !== undefined && st.uid !== uid) return `${said} is owned by uid ${st.uid}, not by this user (uid ${uid})`;
  if ((st.mode & 0o022) !== 0) return `${said} is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}

function isUnder(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function realOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
