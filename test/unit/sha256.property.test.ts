/**
 * sha256Hex against node:crypto over random input (attack2 review of the
 * rewrite for V8's interpreter: Int32 arithmetic, hand-written padding).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/sha256.ts';

const ref = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('sha256Hex, property: equals node:crypto', () => {
  it('on random full-Unicode strings (astral, lone surrogates, NUL)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (s) => sha256Hex(s) === ref(s)), { numRuns: 400 });
  });
  it('on random byte strings (latin1-decoded, so non-ASCII code points 0x80-0xff become two UTF-8 bytes)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), (b) => {
      const s = Buffer.from(b).toString('latin1');
      return sha256Hex(s) === ref(s);
    }), { numRuns: 200 });
  });
  it('on every UTF-8 length around the 55/56/64-byte padding edges, in 1-, 2-, 3- and 4-byte characters', () => {
    for (const ch of ['a', 'é', '\u20ac', '\u{1F600}']) {
      for (let n = 0; n <= 140; n++) {
        const s = ch.repeat(n);
        expect(sha256Hex(s), `${JSON.stringify(ch)} x ${n}`).toBe(ref(s));
        const t = `${'a'.repeat(n)}${ch}`;
        expect(sha256Hex(t), `a x ${n} + ${JSON.stringify(ch)}`).toBe(ref(t));
      }
    }
  });
  it('on random lengths up to 200000 (several block counts, multi-byte tail)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 0x10ffff }), (n, cp) => {
      const s = 'x'.repeat(n) + String.fromCodePoint(cp);
      return sha256Hex(s) === ref(s);
    }), { numRuns: 40 });
  });
});
