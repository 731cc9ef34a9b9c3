/**
 * Regression test (was pending; the seed engine now passes it).
 *
 * Was: a tiny seed with a DAG of directory symlinks makes seeding effectively
 * hang. src/seed/walk.ts follows every directory symlink (followLink →
 * subdirs.push(realpathSync(src))) and detects only cycles on the ancestor
 * chain (walkDir's `ancestors`), so k levels of two symlinks to the next level
 * are walked 2^k times. Measured with `seedwrap seed` on this machine:
 *   k=10: 2,047 files 0.7 s; k=14: 32,767 files 4.1 s, 131 MB RSS;
 *   k=16: 131,071 files 16 s, 223 MB RSS (and it fills DEST with 131k links,
 *   537 of them copies after ext4's EMLINK); k=24 (48 symlinks, 25 files): hours.
 * Expected: a bound — refuse (SEED error, "starting cold") once the plan
 * exceeds a budget (e.g. entries reached through symlinks > N, or the same
 * real directory reached more than M times), within a few seconds.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { MAX_ENTRIES } from '../../src/seed/walk.ts';
import { symlinkDag } from '../helpers/trees.ts';
import { BUNDLE, destState, NODE, runSeed, scratch, staging } from './helpers.ts';

describe('a symlink DAG cannot make seeding hang', () => {
  it('k=24 levels of two directory symlinks: finishes (seeded or refused) within 15 s, DEST never partial', async () => {
    const root = scratch('dag24');
    const seed = symlinkDag(join(root, 'seed'), 24);
    const dest = join(root, 'dest');
    // 2^24 paths: the unbounded walk runs for hours, the bounded one well under a
    // second; 60 s only guards against a busy CI machine.
    const r = await runSeed('command', seed, dest, {}, 60_000);
    expect(r.timedOut).toBe(false);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(destState(dest, undefined)).toMatch(/absent|empty|complete/);
    expect(staging(dest)).toEqual([]);
  }, 120_000);
});

/**
 * Issue 10, item 9: MAX_VISITS bounds each directory, not the whole walk: 250
 * directory symlinks to one 20,000-file directory planned 5,000,000 files
 * (45 s, 1.27 GB). Here 250 symlinks to a 4,100-file directory: 1,029,350
 * paths, just past the total bound (walk.ts MAX_ENTRIES).
 */
describe('a wide fan of directory symlinks cannot make the plan unbounded', () => {
  it('250 symlinks to one 4,100-file directory: refused with one line naming the limit', async () => {
    const root = scratch('fan');
    const seed = join(root, 'seed');
    mkdirSync(join(seed, 'real'), { recursive: true });
    for (let f = 0; f < 4100; f++) writeFileSync(join(seed, 'real', `f${f}`), '');
    for (let v = 0; v < 250; v++) symlinkSync('real', join(seed, `v${v}`));
    const dest = join(root, 'dest');
    const r = await execa(NODE, [BUNDLE, 'seed', '--dry-run', seed, dest], { reject: false, timeout: 120_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1); // was: exit 0, "would seed 1029350 files"
    expect(String(r.stderr)).toMatch(new RegExp(`^seedwrap seed: the seed has more than ${MAX_ENTRIES} files and directories \\(the limit; every path through a directory symlink counts\\), reached at ${seed}/v\\d+; refusing to seed it$`));
    expect(staging(dest)).toEqual([]);
  }, 180_000);
});
