/**
 * rustc's `-C incremental=DIR`, in every spelling rustc accepts:
 * `-Cincremental=DIR`, `-C incremental=DIR`, `--codegen=incremental=DIR` and
 * `--codegen incremental=DIR`. Read from the child's final argv (after
 * `--subst` and `@paramfile` expansion), so a flag that reaches rustc through
 * rules_rust's `extra_rustc_flag` or a param file is seen the same way.
 */
export interface IncrementalFlag {
  /** The incremental directory, as rustc will read it. */
  dir: string;
  /** Index of the first argument of the flag (one or two arguments long). */
  index: number;
  /** 2 for the split forms (`-C` `incremental=DIR`), else 1. */
  width: 1 | 2;
}

const JOINED = ['-Cincremental=', '--codegen=incremental='];
const SPLIT = ['-C', '--codegen'];
const VALUE = 'incremental=';

/** The last `-C incremental` of `args` (rustc takes the last one), or undefined. */
export function findIncremental(args: readonly string[]): IncrementalFlag | undefined {
  let found: IncrementalFlag | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const joined = JOINED.find((p) => a.startsWith(p));
    if (joined) found = { dir: a.slice(joined.length), index: i, width: 1 };
    else if (SPLIT.includes(a) && args[i + 1]?.startsWith(VALUE)) {
      found = { dir: args[i + 1]!.slice(VALUE.length), index: i, width: 2 };
      i++;
    }
  }
  return found;
}

/** `args` with that flag's directory replaced, in the spelling it had. */
export function withIncrementalDir(args: readonly string[], flag: IncrementalFlag, dir: string): string[] {
  const out = [...args];
  if (flag.width === 2) out[flag.index + 1] = `${VALUE}${dir}`;
  else out[flag.index] = `${out[flag.index]!.slice(0, out[flag.index]!.indexOf(VALUE))}${VALUE}${dir}`;
  return out;
}

/** `args` without any `-C incremental`: rustc then compiles without incremental state. */
export function withoutIncremental(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (JOINED.some((p) => a.startsWith(p))) continue;
    if (SPLIT.includes(a) && args[i + 1]?.startsWith(VALUE)) {
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}
