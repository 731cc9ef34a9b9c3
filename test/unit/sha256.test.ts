import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/sha256.ts';

describe('sha256Hex (the store\'s names without loading node:crypto)', () => {
  it('gives node:crypto\'s digest for every length around the block boundaries, multi-byte text and random strings', () => {
    const inputs = ['', 'abc', 'é\u{1F600}\0x', ...Array.from({ length: 200 }, (_, n) => 'a'.repeat(n)), ...Array.from({ length: 50 }, () => randomBytes(1 + Math.floor(Math.random() * 3000)).toString('latin1'))];
    for (const s of inputs) expect(sha256Hex(s), JSON.stringify(s.slice(0, 20))).toBe(createHash('sha256').update(s).digest('hex'));
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
