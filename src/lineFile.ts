import { readFileSync } from 'node:fs';
import { SeedwrapError, describe } from './errors.ts';

// ignoreBOM keeps a leading U+FEFF as part of the first line, as upstream's
// Rust reader does (TextDecoder would silently drop it).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads a process_wrapper line file (arg, env, param and status files).
 * `what` names the flag or role in error messages.
 */
export function readLineFile(path: string, what: string): string[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SeedwrapError('INPUT', `${what}: cannot read ${path}: ${describe(err)}`, { cause: err });
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (err) {
    throw new SeedwrapError('INPUT', `${what}: ${path} is not valid UTF-8`, { cause: err });
  }
  return parseLines(text);
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
