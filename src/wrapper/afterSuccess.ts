import { closeSync, constants, fchmodSync, fstatSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { SeedwrapError, describe, isSystemError } from '../errors.ts';
import type { Options } from './options.ts';

/**
 * What process_wrapper does only after the child exits 0, in upstream's order:
 * the touch file, the copied output, then Bazel's unused-inputs list. Every
 * destination is opened O_WRONLY|O_CREAT|O_TRUNC and written in place, never
 * unlinked or replaced: a DEST that is a device (`/dev/null`) stays the device.
 */
export function afterSuccess(opts: Options, resolvePath: (p: string) => string): void {
  if (opts.touchFile !== undefined) {
    attempt(`--touch-file ${opts.touchFile}`, () => closeSync(openSync(resolvePath(opts.touchFile!), 'w')));
  }
  if (opts.copyOutput) {
    const [src, dest] = opts.copyOutput;
    copyInto(`--copy-output ${src} ${dest}`, src, dest, resolvePath);
  }
  if (opts.writeUnusedInputs) {
    const [file, input] = opts.writeUnusedInputs;
    // Bazel matches this line against the seed tree's exec path exactly, so
    // it is written as given: no normalisation could make a wrong form match.
    attempt(`--write-unused-inputs ${file}`, () => writeFileSync(resolvePath(file), input + '\n'));
  }
}

const CHUNK = 1 << 20;

/**
 * Rust's `std::fs::copy`, which upstream uses: SRC must be a regular file;
 * DEST is opened for writing (created with SRC's mode, truncated) and gets
 * SRC's mode only if it is a regular file. Not `fs.copyFileSync`: libuv's
 * copyfile chmods DEST whatever it is and unlinks it when the copy fails
 * (EINVAL for a character device), which removed /dev/null when run as root.
 * An error names the side that failed (the source, or DEST's missing parent).
 */
function copyInto(what: string, src: string, dest: string, resolvePath: (p: string) => string): void {
  let from: number;
  let mode: number;
  try {
    // O_NONBLOCK: a FIFO as SRC is refused below instead of blocking the open.
    from = openSync(resolvePath(src), constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(from);
    if (!st.isFile()) {
      closeSync(from);
      throw new Error(`${src} is not a regular file`);
    }
    mode = st.mode & 0o7777;
  } catch (err) {
    throw new SeedwrapError('OUTPUT', `${what}: cannot read ${src}: ${describe(err)}`, { cause: err });
  }
  try {
    let to: number;
    try {
      to = openSync(resolvePath(dest), 'w', mode);
    } catch (err) {
      const parent = dirname(resolvePath(dest));
      const why = isSystemError(err) && err.code === 'ENOENT' ? `${parent} does not exist` : describe(err);
      throw new SeedwrapError('OUTPUT', `${what}: cannot write ${dest}: ${why}`, { cause: err });
    }
    try {
      if (fstatSync(to).isFile()) fchmodSync(to, mode);
      const buf = Buffer.allocUnsafe(CHUNK);
      for (let n = readSync(from, buf, 0, CHUNK, null); n > 0; n = readSync(from, buf, 0, CHUNK, null)) {
        for (let off = 0; off < n; ) off += writeSync(to, buf, off, n - off);
      }
    } catch (err) {
      throw new SeedwrapError('OUTPUT', `${what}: ${describe(err)}`, { cause: err });
    } finally {
      closeSync(to);
    }
  } finally {
    closeSync(from);
  }
}

function attempt(what: string, action: () => void): void {
  try {
    action();
  } catch (err) {
    throw new SeedwrapError('OUTPUT', `${what}: ${describe(err)}`, { cause: err });
  }
}
