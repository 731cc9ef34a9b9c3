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
    inline(paramFile, mappings, resolvePath, lines);
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

/** Deeper nesting than this is a mistake, not a command line. */
export const MAX_PARAM_FILE_DEPTH = 4096;

/**
 * Inlines `file` and the param files it names, depth first, with an explicit
 * stack: nesting depth never touches the JS call stack.
 */
function inline(file: string, mappings: readonly Mapping[], resolvePath: (p: string) => string, out: string[]): void {
  const frames: { path: string; lines: string[]; next: number }[] = [];
  const open = new Set<string>();
  const enter = (name: string) => {
    const path = resolvePath(name);
    // Upstream recurses without a guard; a param file that includes itself
    // would never finish, so name the cycle instead.
    if (open.has(path)) throw new SeedwrapError('INPUT', `param file ${name} includes itself`);
    if (frames.length >= MAX_PARAM_FILE_DEPTH) throw new SeedwrapError('INPUT', `param file ${name}: nested more than ${MAX_PARAM_FILE_DEPTH} param files deep`);
    open.add(path);
    frames.push({ path, lines: readLineFile(path, `param file @${name}`), next: 0 });
  };
  enter(file);
  while (frames.length > 0) {
    const top = frames[frames.length - 1]!;
    if (top.next === top.lines.length) {
      open.delete(top.path);
      frames.pop();
      continue;
    }
    const substituted = applySubsts(top.lines[top.next++]!, mappings);
    if (substituted.startsWith('@')) enter(substituted.slice(1));
    else out.push(substituted);
  }
}
