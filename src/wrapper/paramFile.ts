import { closeSync, constants, openSync, writeFileSync } from 'node:fs';
import { SeedwrapError, describe } from '../errors.ts';
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
  const budget: ExpansionBudget = { args: 0, bytes: 0, files: new Map() };
  const args = raw.map((arg) => {
    const substituted = applySubsts(arg, mappings);
    if (!substituted.startsWith('@')) {
      allowsFeatures ||= allowFeatures(substituted);
      return substituted;
    }
    const paramFile = substituted.slice(1);
    const lines: string[] = [];
    inline(paramFile, mappings, resolvePath, lines, budget);
    allowsFeatures ||= lines.some(allowFeatures);
    const expanded = `${paramFile}.expanded`;
    try {
      // O_NONBLOCK: a FIFO without a reader in P.expanded's place fails (ENXIO) instead of blocking the open.
      const fd = openSync(resolvePath(expanded), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NONBLOCK, 0o666);
      try {
        writeFileSync(fd, lines.map((l) => l + '\n').join(''));
      } finally {
        closeSync(fd);
      }
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
 * Totals over every param file of one command line. A diamond of n tiny
 * files that each name the next twice expands to 2^n arguments (23 files:
 * 4,194,304 arguments, 195 s, 540 MB); a real rustc command line is a few
 * thousand arguments and a few megabytes.
 */
export const MAX_EXPANDED_ARGS = 1_000_000;
const MAX_EXPANDED_BYTES = 64 * 1024 * 1024;

interface ExpansionBudget {
  args: number;
  bytes: number;
  /**
   * Each param file's complete expansion, kept once it is done: a file named
   * again (a diamond) is appended from here, not read and walked again.
   */
  files: Map<string, { args: string[]; bytes: number }>;
}

/**
 * Inlines `file` and the param files it names, depth first, with an explicit
 * stack: nesting depth never touches the JS call stack.
 */
function inline(file: string, mappings: readonly Mapping[], resolvePath: (p: string) => string, out: string[], budget: ExpansionBudget): void {
  const frames: { path: string; lines: string[]; next: number; start: number; bytes: number }[] = [];
  const open = new Set<string>();
  const count = (args: number, bytes: number) => {
    budget.args += args;
    budget.bytes += bytes;
    if (budget.args > MAX_EXPANDED_ARGS || budget.bytes > MAX_EXPANDED_BYTES) throw overBudget(file, budget);
  };
  const enter = (name: string) => {
    const path = resolvePath(name);
    const done = budget.files.get(path);
    if (done) {
      count(done.args.length, done.bytes);
      for (const arg of done.args) out.push(arg);
      return;
    }
    // Upstream recurses without a guard; a param file that includes itself
    // would never finish, so name the cycle instead.
    if (open.has(path)) throw new SeedwrapError('INPUT', `param file ${name} includes itself`);
    if (frames.length >= MAX_PARAM_FILE_DEPTH) throw new SeedwrapError('INPUT', `param file ${name}: nested more than ${MAX_PARAM_FILE_DEPTH} param files deep`);
    open.add(path);
    frames.push({ path, lines: readLineFile(path, `param file @${name}`), next: 0, start: out.length, bytes: budget.bytes });
  };
  enter(file);
  while (frames.length > 0) {
    const top = frames[frames.length - 1]!;
    if (top.next === top.lines.length) {
      open.delete(top.path);
      budget.files.set(top.path, { args: out.slice(top.start), bytes: budget.bytes - top.bytes });
      frames.pop();
      continue;
    }
    const substituted = applySubsts(top.lines[top.next++]!, mappings);
    if (substituted.startsWith('@')) enter(substituted.slice(1));
    else {
      count(1, Buffer.byteLength(substituted) + 1);
      out.push(substituted);
    }
  }
}

function overBudget(file: string, budget: ExpansionBudget): SeedwrapError {
  const limit = budget.args > MAX_EXPANDED_ARGS ? `${MAX_EXPANDED_ARGS} arguments` : `${MAX_EXPANDED_BYTES} bytes`;
  return new SeedwrapError('INPUT', `param file @${file}: expands to more than ${limit} (seedwrap's limit for all param files of one command line); is a param file named more than once?`);
}
