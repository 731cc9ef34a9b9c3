import type { IncrementalSettings } from '../flags.ts';
import type { RequestHook } from '../serve.ts';

export function createIncrementalHook(_settings: IncrementalSettings, _log: (line: string) => void): RequestHook {
  return { prepare: async (argv) => ({ argv, release: async () => {} }) };
}
