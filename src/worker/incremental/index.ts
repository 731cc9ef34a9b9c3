import { describe } from '../../errors.ts';
import type { IncrementalSettings } from '../flags.ts';
import type { RequestHook } from '../serve.ts';
import { cacheKey } from './key.ts';
import { inspectRustc } from './rustc-args.ts';
import { IncrementalStore } from './store.ts';

/**
 * The worker-local incremental cache (`--worker-incremental-dir`): a rustc
 * request without `-Cincremental` gets `-Cincremental=<slot>` appended, a
 * directory that belongs to this crate's compiles (see key.ts) and survives
 * worker restarts. rustc reuses a session only from the same absolute cwd,
 * which a non-sandboxed worker has (`<output_base>/execroot/<ws>`).
 *
 * Any failure of the cache itself is logged and the request runs without it:
 * the cache may make a compile faster, never make one fail.
 */
export function createIncrementalHook(
  settings: IncrementalSettings,
  log: (line: string) => void,
  env: Record<string, string | undefined> = process.env,
): RequestHook {
  const store = new IncrementalStore(settings.root);
  // Evictions run one at a time, after the request has been answered.
  let evicting: Promise<void> = Promise.resolve();
  const scheduleEviction = () => {
    evicting = evicting.then(() => {
      try {
        const n = store.evict(settings.maxBytes);
        if (n > 0) log(`incremental cache: evicted ${n} least recently used director${n === 1 ? 'y' : 'ies'}`);
      } catch (err) {
        log(`incremental cache: eviction failed: ${describe(err)}`);
      }
    });
  };

  return {
    async prepare(argv, cwd) {
      const unchanged = { argv, release: async () => {} };
      const inv = inspectRustc(argv, cwd);
      if (!inv) return unchanged;
      let lease;
      try {
        lease = store.lease(await cacheKey(inv, cwd, env));
      } catch (err) {
        log(`incremental cache: not used for ${inv.crateName}: ${describe(err)}`);
        return unchanged;
      }
      if (!lease) {
        log(`incremental cache: all slots for ${inv.crateName} are busy; compiling without one`);
        return unchanged;
      }
      const held = lease;
      return {
        argv: [...argv, `-Cincremental=${held.dir}`],
        release: async () => {
          try {
            held.release();
          } catch (err) {
            log(`incremental cache: cannot release ${held.dir}: ${describe(err)}`);
          }
          scheduleEviction();
        },
      };
    },
  };
}
