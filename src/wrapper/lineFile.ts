import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { SeedwrapError, describe } from '../errors.ts';

/**
 * The most seedwrap reads of one line file (arg, env, param, status file,
 * worker flagfile). rustc's param files are kilobytes to a few megabytes; the
 * cap keeps a hostile or mistaken path (a 20 GB file) from exhausting memory,
 * and keeps every synchronous read short, so a SIGTERM is handled promptly.
 */
export const MAX_LINE_FILE_BYTES = 64 * 1024 * 1024;

// ignoreBOM keeps a leading U+FEFF as part of the first line, as upstream's
// Rust reader does (TextDecoder would silently drop it).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads a process_wrapper line file (arg, env, param and status files).
 * `what` names the flag or role in error messages.
 */
export function readLineFile(path: string, what: string): string[] {
  const bytes = readRegularFile(path, what);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (err) {
    throw new SeedwrapError('INPUT', `${what}: ${path} is not valid UTF-8`, { cause: err });
  }
  return parseLines(text);
}

/**
 * The bytes of a regular file of at most MAX_LINE_FILE_BYTES. Opened with
 * O_NONBLOCK and checked with fstat before any read: a FIFO (`mkfifo`), a
 * device (`/dev/zero`) or a pipe (`/dev/stdin`) would block the open or the
 * read, or never end, inside a synchronous call no signal can interrupt.
 */
export function readRegularFile(path: string, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new SeedwrapError('INPUT', `${what}: cannot read ${path}: ${describe(err)}`, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SeedwrapError('INPUT', `${what}: ${path} is ${kindOf(st)}, not a regular file; seedwrap reads only regular files`);
    if (st.size > MAX_LINE_FILE_BYTES) throw tooBig(path, what);
    // Read one byte past the cap: a file that grows while it is read is caught too.
    const buf = Buffer.allocUnsafe(Math.min(st.size + 1, MAX_LINE_FILE_BYTES + 1));
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        if (len > MAX_LINE_FILE_BYTES) throw tooBig(path, what);
        return Buffer.concat([buf, readRegularTail(fd, path, what, len)]);
      }
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) return buf.subarray(0, len);
      len += n;
    }
  } catch (err) {
    if (err instanceof SeedwrapError) throw err;
    throw new SeedwrapError('INPUT', `${what}: cannot read ${path}: ${describe(err)}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

/** The rest of a file that grew after fstat, still within the cap. */
function readRegularTail(fd: number, path: string, what: string, done: number): Buffer {
  const buf = Buffer.allocUnsafe(MAX_LINE_FILE_BYTES + 1 - done);
  let len = 0;
  for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, len, buf.length - len, null)) {
    len += n;
    if (done + len > MAX_LINE_FILE_BYTES) throw tooBig(path, what);
  }
  return buf.subarray(0, len);
}

function tooBig(path: string, what: string): SeedwrapError {
  return new SeedwrapError('INPUT', `${what}: ${path} is larger than seedwrap's limit for a line file (${MAX_LINE_FILE_BYTES} bytes)`);
}

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO or pipe';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return st.isSocket() ? 'a socket' : 'not a regular file';
}

/**
 * The line-file rules: split on `\n` (a `\r` right before it is dropped);
 * empty lines are skipped, even inside a continuation; a line ending in n
 * backslashes keeps n/2 of them and, when n is odd, continues with a newline
 * and the next line. A continuation still open at the end is dropped.
 */
export function parseLines(text: string): string[] {
  const rawLines = text.split('\n');
  // A trailing `\n` ends the last line; it does not start an empty one.
  if (rawLines.length > 0 && rawLines[rawLines.length - 1] === '') rawLines.pop();
  const out: string[] = [];
  let pending = '';
  for (let i = 0; i < rawLines.length; i++) {
    let line = rawLines[i]!;
    const terminated = i < rawLines.length - 1 || text.endsWith('\n');
    if (terminated && line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') continue;
    let n = 0;
    while (n < line.length && line[line.length - 1 - n] === '\\') n++;
    pending += line.slice(0, line.length - n) + '\\'.repeat(n >> 1);
    if (n % 2 === 1) {
      pending += '\n';
    } else {
      out.push(pending);
      pending = '';
    }
  }
  return out;
}
