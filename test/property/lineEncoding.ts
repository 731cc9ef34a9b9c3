/**
 * The line-file escaping rules (spec §2) run backwards, shared by the
 * property tests: one argument → the line(s) that spell it.
 */
export function encodeArg(arg: string): string {
  const segments = arg.split('\n');
  return segments
    .map((seg, i) => {
      const body = seg.replace(/\\+$/, '');
      const trailing = seg.length - body.length;
      const continues = i < segments.length - 1;
      // n trailing backslashes keep n/2; an odd count continues the line.
      return body + '\\'.repeat(2 * trailing + (continues ? 1 : 0));
    })
    .join('\n');
}

/**
 * Which arguments a line file can carry: non-empty, and not ending in `\n`
 * (the continuation's next line would be empty, and empty lines are skipped)
 * or `\r` (dropped before the line's `\n`).
 */
export const representable = (s: string): boolean => s.length > 0 && !s.endsWith('\n') && !s.endsWith('\r');
