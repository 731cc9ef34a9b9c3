/**
 * Property tests for the line-file reader (arg, env, param and status files).
 * A reference model written from the spec's words (a character-level state
 * machine, deliberately unlike the implementation's split-and-scan) is
 * compared with parseLines on random text, and an encoder for the escaping
 * rules round-trips random argument lists through real files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLines, readLineFile } from '../../src/wrapper/lineFile.ts';
import { SeedwrapError } from '../../src/errors.ts';
import { tempDir } from '../helpers/tmp.ts';
import { encodeArg, representable } from './lineEncoding.ts';

/** spec §2, character by character. */
function modelParse(text: string): string[] {
  const lines: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      // "a \r directly before \n is dropped"
      lines.push(cur.endsWith('\r') ? cur.slice(0, -1) : cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur !== '') lines.push(cur); // an unterminated last line keeps its \r
  const out: string[] = [];
  let open: string | undefined;
  for (const line of lines) {
    if (line.length === 0) continue;
    let n = 0;
    while (line.charAt(line.length - 1 - n) === '\\') n++;
    const kept = line.slice(0, line.length - n) + '\\'.repeat(Math.floor(n / 2));
    const logical = (open ?? '') + kept;
    if (n % 2 === 1) open = logical + '\n';
    else {
      out.push(logical);
      open = undefined;
    }
  }
  return out; // a continuation still open at the end is dropped
}

// A small alphabet makes the interesting characters collide often.
const tricky = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\\', '\n', '\r', 'é', '😀', '@', '$', '{', '}'), maxLength: 60 });
const anyText = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 200 }));
const arg = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 40 })).filter(representable);

describe('parseLines (property)', () => {
  it('never throws on any string, and never returns an empty argument', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const lines = parseLines(text);
        expect(lines.every((l) => l.length > 0)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with a character-level model of spec §2 on random text', () => {
    fc.assert(fc.property(anyText, (text) => void expect(parseLines(text)).toEqual(modelParse(text))), { numRuns: 5000 });
  });

  it('round-trips: encoded arguments, one per line, come back exactly', () => {
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 12 }), fc.boolean(), fc.boolean(), (args, crlf, finalNewline) => {
        const body = args.map(encodeArg);
        // CRLF endings are read like LF ones (a Windows-edited param file).
        let text = body.join(crlf ? '\r\n' : '\n');
        if (args.length > 0 && finalNewline) text += crlf ? '\r\n' : '\n';
        expect(parseLines(text)).toEqual(args);
      }),
      { numRuns: 3000 },
    );
  });

  it('blank lines between arguments are ignored', () => {
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 8 }), fc.nat({ max: 3 }), (args, blanks) => {
        const text = args.map(encodeArg).join('\n' + '\n'.repeat(blanks)) + '\n';
        expect(parseLines(text)).toEqual(args);
      }),
    );
  });
});

describe('readLineFile (property, real files)', () => {
  it('round-trips any valid UTF-8 argument list through a file; invalid UTF-8 is a SeedwrapError naming the path', () => {
    const dir = tempDir();
    let n = 0;
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 10 }), fc.uint8Array({ maxLength: 64 }), (args, noise) => {
        const path = join(dir, `f${n++}`);
        writeFileSync(path, Buffer.from(args.map((a) => encodeArg(a) + '\n').join(''), 'utf8'));
        expect(readLineFile(path, '--arg-file f')).toEqual(args);

        writeFileSync(path, noise);
        const valid = (() => {
          try {
            new TextDecoder('utf-8', { fatal: true }).decode(noise);
            return true;
          } catch {
            return false;
          }
        })();
        if (valid) {
          expect(readLineFile(path, '--arg-file f')).toEqual(modelParse(new TextDecoder().decode(noise)));
        } else {
          let err: unknown;
          try {
            readLineFile(path, '--arg-file f');
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(SeedwrapError);
          expect((err as SeedwrapError).code).toBe('INPUT');
          expect((err as Error).message).toContain(path);
        }
      }),
      { numRuns: 500 },
    );
  });
});
