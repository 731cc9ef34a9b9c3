import type { IncrementalSettings } from '../worker/flags.ts';
import type { RequestHook } from '../worker/serve.ts';
import { wantsStore } from './wantsStore.ts';

/**
 * The worker's `--worker-incremental-dir`: the store, given to every rustc
 * request that has no `-C incremental` of its own as `-Cincremental=<root>`.
 * From there the request goes through the same store code as a one-shot
 * action (src/store/index.ts): partitions, rustc's own session locks for
 * concurrent requests, external crates, the ICE retry, the cold fallback and
 * eviction (`--worker-incremental-max-mb` reaches it as SEEDWRAP_STORE_MAX_MB,
 * see worker/index.ts). rustc reuses a session only from the same absolute cwd,
 * which a non-sandboxed worker has (`<output_base>/execroot/<ws>`) and a
 * sandboxed one gets from the stable cwd.
 */
export function createIncrementalHook(settings: IncrementalSettings): RequestHook {
  return {
    prepare: (argv, cwd) => (wantsStore(argv, cwd) ? [...argv, `-Cincremental=${settings.root}`] : argv),
  };
}
