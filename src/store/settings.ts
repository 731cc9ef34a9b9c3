/**
 * How the store is managed, from the action's environment. rules_rust does not
 * let a user add wrapper flags, and an environment variable reaches the action
 * without entering rustc's command line (Bazel: `--action_env`, where the rule
 * passes the default shell environment; the worker sets them from its own
 * startup flags).
 *
 * - `SEEDWRAP_STORE_EXTERNAL=1`: also keep state for crates whose root is
 *   under `external/` (off by default, as cargo does for registry crates).
 * - `SEEDWRAP_STORE_MAX_MB=N`: size cap of the store (default 4096); least
 *   recently used crate directories are removed beyond it.
 * - `SEEDWRAP_STORE_MIN_FREE_MB=N`: below this much free space on the store's
 *   filesystem, compile into a fresh directory instead (default 256).
 */
export interface StoreSettings {
  external: boolean;
  maxBytes: number;
  minFreeBytes: number;
}

const MIB = 1024 * 1024;
const DEFAULT_MAX_MB = 4096;
const DEFAULT_MIN_FREE_MB = 256;

export function storeSettings(env: Record<string, string | undefined>, warn: (line: string) => void): StoreSettings {
  return {
    external: ['1', 'true'].includes(env.SEEDWRAP_STORE_EXTERNAL ?? ''),
    maxBytes: megabytes(env, 'SEEDWRAP_STORE_MAX_MB', DEFAULT_MAX_MB, warn) * MIB,
    minFreeBytes: megabytes(env, 'SEEDWRAP_STORE_MIN_FREE_MB', DEFAULT_MIN_FREE_MB, warn) * MIB,
  };
}

/** A whole number of MiB; a bad value is reported and the default used (a setting never fails a build). */
function megabytes(env: Record<string, string | undefined>, name: string, fallback: number, warn: (line: string) => void): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if (/^\d+$/.test(v)) return Number(v);
  warn(`${name}="${v}" is not a whole number of MiB; using ${fallback}`);
  return fallback;
}
