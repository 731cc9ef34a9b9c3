import { basename, resolve } from 'node:path';
import { readLineFile } from '../wrapper/lineFile.ts';
import { findIncremental } from './incrementalFlag.ts';

/**
 * Whether the worker's `--worker-incremental-dir` applies to a request
 * (`FLAGS -- rustc ARGS`): a rustc compile (it names its crate) with no
 * `-C incremental` of its own (the rule already chose a directory). rustc's
 * arguments may sit in `@param` files; they are read with the wrapper's own
 * line-file reader (regular files only, bounded), and a request whose param
 * file cannot be read is left alone: the wrapper reports it.
 */
export function wantsStore(argv: readonly string[], cwd: string): boolean {
  const sep = argv.indexOf('--');
  if (sep < 0) return false;
  const [program, ...raw] = argv.slice(sep + 1);
  if (program === undefined || !basename(program).startsWith('rustc')) return false;
  let args: string[];
  try {
    args = raw.flatMap((a) => (a.startsWith('@') ? readLineFile(resolve(cwd, a.slice(1)), `param file ${a.slice(1)}`) : [a]));
  } catch {
    return false;
  }
  const namesCrate = args.some((a, i) => (a === '--crate-name' && !!args[i + 1]) || (a.startsWith('--crate-name=') && a.length > '--crate-name='.length));
  return namesCrate && !findIncremental(args);
}
