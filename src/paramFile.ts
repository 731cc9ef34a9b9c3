import { writeFileSync } from 'node:fs';
import { SeedwrapError, describe } from './errors.ts';
import { readLineFile } from './lineFile.ts';
import { applySubsts, type Mapping } from './subst.ts';

export interface ArgsResult {
  args: string[];
  /** Some argument (param files included) already sets `-Zallow-features=`. */
  allowsFeatures: boolean;
}

const allowFeatures = (arg: string) => arg.startsWith('-Zallow-features=') || arg.startsWith('allow-features=');

/**
 * Substitutes every child argument and expands `@paramfile` arguments: P is
 * read as a line file, each line substituted, nested `@file` lines inlined,
 * and the result written to `P.expanded`, one argument per line. Bazel writes
 * rustc's long command lines to param files, and only the wrapper knows the
 * sandbox paths that `${pwd}` stands for.
 */
export function prepareArgs(raw: readonly string[], mappings: readonly Mapping[], resolvePath: (p: string) => string): ArgsResult {
  let allowsFeatures = false;
  const args = raw.map((arg) => {
    const substituted = applySubsts(arg, mappings);
    if (!substituted.startsWith('@')) {
      allowsFeatures ||= allowFeatures(substituted);
      return substituted;
    }
    const paramFile = substituted.slice(1);
    const lines: string[] = [];
    const seen = new Set<string>();
    inline(paramFile, mappings, resolvePath, lines, seen);
    allowsFeatures ||= lines.some(allowFeatures);
    const expanded = `${paramFile}.expanded`;
    try {
      writeFileSync(resolvePath(expanded), lines.map((l) => l + '\n').join(''));
    } catch (err) {
      throw new SeedwrapError('OUTPUT', `cannot write expanded param file ${expanded}: ${describe(err)}`, { cause: err });
    }
    return `@${expanded}`;
  });
  return { args, allowsFeatures };
}

/** Deeper nesting than this is a mistake, not a command line; it would also exhaust the stack. */
export const MAX_PARAM_FILE_DEPTH = 4096;

function inline(file: string, mappings: readonly Mapping[], resolvePath: (p: string) => string, out: string[], stack: Set<string>): void {
  const path = resolvePath(file);
  // Upstream recurses without a guard; a param file that includes itself would
  // never finish, so name the cycle instead.
  if (stack.has(path)) throw new SeedwrapError('INPUT', `param file ${file} includes itself`);
  if (stack.size >= MAX_PARAM_FILE_DEPTH) throw new SeedwrapError('INPUT', `param file ${file}: nested more than ${MAX_PARAM_FILE_DEPTH} param files deep`);
  stack.add(path);
  for (const line of readLineFile(path, `param file @${file}`)) {
    const substituted = applySubsts(line, mappings);
    if (substituted.startsWith('@')) inline(substituted.slice(1), mappings, resolvePath, out, stack);
    else out.push(substituted);
  }
  stack.delete(path);
}
