import { basename, resolve } from 'node:path';
import { readRegularFile } from '../wrapper/lineFile.ts';

/** What the cache key needs from one request's command line. */
export interface RustcInvocation {
  /** The program after `--`, as written. */
  program: string;
  crateName: string;
  /** `--target`, or '' for the host. */
  target: string;
  /** Sorted `--emit` kinds, e.g. 'dep-info,link'. */
  emit: string;
  /** Only metadata is wanted: `--emit` without `link`, or the pipelining kill. */
  metadataOnly: boolean;
  crateTypes: string;
  test: boolean;
  outDir: string;
}

/**
 * Reads a process_wrapper command line (`FLAGS -- rustc ARGS`) for the cache.
 * Returns undefined when the request is not a rustc compile the cache should
 * touch: no `--`, a program that is not rustc, no `--crate-name`, or an
 * `-Cincremental` of its own (the rule already chose a directory).
 *
 * rustc arguments may sit in `@param` files (rules_rust uses them for long
 * command lines); they are read here for inspection only, one argument per
 * line, relative to the request's cwd.
 */
export function inspectRustc(argv: readonly string[], cwd: string): RustcInvocation | undefined {
  const sep = argv.indexOf('--');
  if (sep < 0) return undefined;
  const wrapperFlags = argv.slice(0, sep);
  const [program, ...raw] = argv.slice(sep + 1);
  if (program === undefined || !basename(program).startsWith('rustc')) return undefined;
  const args = expandParamFiles(raw, cwd);
  if (args === undefined) return undefined;

  const values = (short: string, long: string): string[] => {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === long || (short !== '' && a === short)) out.push(args[++i] ?? '');
      else if (a.startsWith(`${long}=`)) out.push(a.slice(long.length + 1));
      else if (short !== '' && a.startsWith(short) && a.length > short.length) out.push(a.slice(short.length));
    }
    return out;
  };
  const codegen = values('-C', '--codegen');
  if (codegen.some((c) => c === 'incremental' || c.startsWith('incremental='))) return undefined;
  const crateName = values('', '--crate-name').at(-1);
  if (!crateName) return undefined;

  const emits = values('', '--emit').flatMap((e) => e.split(',')).map((e) => e.split('=')[0]!).filter((e) => e !== '');
  const emitSet = [...new Set(emits.length > 0 ? emits : ['link'])].sort();
  const quitOnRmeta = flagValue(wrapperFlags, '--rustc-quit-on-rmeta') === 'true';
  return {
    program,
    crateName,
    target: values('', '--target').at(-1) ?? '',
    emit: emitSet.join(','),
    metadataOnly: quitOnRmeta || (emitSet.includes('metadata') && !emitSet.includes('link')),
    crateTypes: [...new Set(values('', '--crate-type').flatMap((t) => t.split(',')))].sort().join(','),
    test: args.includes('--test'),
    outDir: values('', '--out-dir').at(-1) ?? '',
  };
}

/** The value of a process_wrapper flag (`--flag value`), if given. */
function flagValue(flags: readonly string[], name: string): string | undefined {
  const i = flags.indexOf(name);
  return i >= 0 ? flags[i + 1] : undefined;
}

/** One level of `@file` expansion; undefined if a param file cannot be read (then leave the request alone). */
function expandParamFiles(args: readonly string[], cwd: string): string[] | undefined {
  const out: string[] = [];
  for (const a of args) {
    if (!a.startsWith('@')) {
      out.push(a);
      continue;
    }
    try {
      // readRegularFile: a FIFO or device as a param file must not block the worker.
      for (const line of readRegularFile(resolve(cwd, a.slice(1)), 'param file').toString('utf8').split('\n')) {
        const arg = line.endsWith('\r') ? line.slice(0, -1) : line;
        if (arg !== '') out.push(arg);
      }
    } catch {
      return undefined;
    }
  }
  return out;
}
