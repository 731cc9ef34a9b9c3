/**
 * Regression test (was pending; the seed engine now passes it).
 *
 * Was: DEST inside SRC is accepted and the seed source is modified, against
 * "the seed source is never modified" (spec §9). `seedwrap seed s s/inner`
 * (or `--copy-seed s s/a/inner`) creates `s/inner/...` inside the seed, with
 * hard links that raise the seed files' link counts; a later seed from `s`
 * then contains the previous DEST. Nothing in src/seed/index.ts or
 * src/seed/commit.ts (checkDest) compares the two paths.
 * Expected: refuse with a SEED error naming both paths (after resolving
 * symlinks: realpath of DEST's parent inside realpath of SRC), seed untouched.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint, runSeed, scratch } from './helpers.ts';

describe('DEST inside the seed', () => {
  it.each(['inner', 'a/inner', 'a/b/c/inner'])('DEST = SRC/%s is refused and the seed is untouched', async (rel) => {
    const root = scratch('dest-in-seed');
    const seed = join(root, 'seed');
    mkdirSync(join(seed, 'a'), { recursive: true });
    writeFileSync(join(seed, 'a', 'f'), 'x');
    const before = fingerprint(seed);
    const r = await runSeed('command', seed, join(seed, rel));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(seed);
    expect(fingerprint(seed)).toEqual(before);
  });
});
