import { closeSync, copyFileSync, openSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SeedwrapError, describe, isSystemError } from './errors.ts';
import type { Options } from './options.ts';

/**
 * What process_wrapper does only after the child exits 0, in upstream's order:
 * the touch file, the copied output, then Bazel's unused-inputs list.
 */
export function afterSuccess(opts: Options, resolvePath: (p: string) => string): void {
  if (opts.touchFile !== undefined) {
    attempt(`--touch-file ${opts.touchFile}`, () => closeSync(openSync(resolvePath(opts.touchFile!), 'w')));
  }
  if (opts.copyOutput) {
    const [src, dest] = opts.copyOutput;
    copyOutput(src, dest, resolvePath);
  }
  if (opts.writeUnusedInputs) {
    const [file, input] = opts.writeUnusedInputs;
    // Bazel matches this line against the seed tree's exec path exactly, so
    // it is written as given: no normalisation could make a wrong form match.
    attempt(`--write-unused-inputs ${file}`, () => writeFileSync(resolvePath(file), input + '\n'));
  }
}

/**
 * copyfile(2)'s error carries the source path even when the destination is
 * what failed (`--copy-output srcfile /nonexistent/x` is "ENOENT srcfile"), so
 * the message says which side it was.
 */
function copyOutput(src: string, dest: string, resolvePath: (p: string) => string): void {
  try {
    copyFileSync(resolvePath(src), resolvePath(dest));
  } catch (err) {
    const what = `--copy-output ${src} ${dest}`;
    if (!isSystemError(err) || !sourceIsReadable(resolvePath(src))) throw new SeedwrapError('OUTPUT', `${what}: cannot read ${src}: ${describe(err)}`, { cause: err });
    const parent = dirname(resolvePath(dest));
    const why = err.code === 'ENOENT' ? `${parent} does not exist` : `${err.code} (${parent})`;
    throw new SeedwrapError('OUTPUT', `${what}: cannot write ${dest}: ${why}`, { cause: err });
  }
}

function sourceIsReadable(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function attempt(what: string, action: () => void): void {
  try {
    action();
  } catch (err) {
    throw new SeedwrapError('OUTPUT', `${what}: ${describe(err)}`, { cause: err });
  }
}
