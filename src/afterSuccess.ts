import { closeSync, copyFileSync, openSync, writeFileSync } from 'node:fs';
import { SeedwrapError, describe } from './errors.ts';
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
    attempt(`--copy-output ${src} ${dest}`, () => copyFileSync(resolvePath(src), resolvePath(dest)));
  }
  if (opts.writeUnusedInputs) {
    const [file, input] = opts.writeUnusedInputs;
    // Bazel matches this line against the seed tree's exec path exactly, so
    // it is written as given: no normalisation could make a wrong form match.
    attempt(`--write-unused-inputs ${file}`, () => writeFileSync(resolvePath(file), input + '\n'));
  }
}

function attempt(what: string, action: () => void): void {
  try {
    action();
  } catch (err) {
    throw new SeedwrapError('OUTPUT', `${what}: ${describe(err)}`, { cause: err });
  }
}
