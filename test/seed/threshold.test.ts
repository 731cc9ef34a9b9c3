/** --seed-min-mb semantics: apparent size of what would be seeded, counted only as far as needed. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/index.ts';
import { parseMinMb } from '../../src/seed/min-mb.ts';
import { KIND_LINK } from '../../src/seed/place.ts';
import { addFile, emptyPlan, startGroup } from '../../src/seed/plan.ts';
import { countUntil } from '../../src/seed/threshold.ts';
import { removeTree, tempDir } from './helpers.ts';

const root = tempDir('threshold');
afterAll(() => removeTree(root));

/** A rustc-layout seed whose newest session holds `bytes`, and an older session of 10 MiB that is not counted. */
function seedOf(name: string, bytes: number): string {
  const crate = join(root, name, 'krate-0abc');
  mkdirSync(join(crate, 's-hocaaaaaaa-0aaaaaa-svh1'), { recursive: true });
  mkdirSync(join(crate, 's-hocbbbbbbb-0bbbbbb-svh2'), { recursive: true });
  writeFileSync(join(crate, 's-hocaaaaaaa-0aaaaaa-svh1/query-cache.bin'), Buffer.alloc(10 * 1048576));
  writeFileSync(join(crate, 's-hocbbbbbbb-0bbbbbb-svh2/query-cache.bin'), Buffer.alloc(bytes));
  return join(root, name);
}

describe('threshold', () => {
  it('skips a seed below the threshold and leaves an empty DEST', async () => {
    const report = await seed(seedOf('small', 1048576 - 1), join(root, 'd1'), { minBytes: 1048576, writableWorkProducts: true });
    expect(report).toMatchObject({ outcome: 'below-threshold', bytes: 1048575 });
    expect(readdirSync(join(root, 'd1'))).toEqual([]);
  });

  it('seeds a seed exactly at the threshold', async () => {
    const report = await seed(seedOf('equal', 1048576), join(root, 'd2'), { minBytes: 1048576, writableWorkProducts: true });
    expect(report).toMatchObject({ outcome: 'seeded', bytes: 1048576 });
  });

  it('stops counting once past the threshold (a later file is never stat-ed)', async () => {
    mkdirSync(join(root, 'count'));
    writeFileSync(join(root, 'count/big'), Buffer.alloc(2048));
    const plan = emptyPlan();
    startGroup(plan, join(root, 'count'), '');
    addFile(plan, 'big', KIND_LINK);
    addFile(plan, 'vanished', KIND_LINK);
    expect((await countUntil(plan, 1024)).bytes).toBe(2048);
    await expect(countUntil(plan, 4096)).rejects.toThrow(/ENOENT/);
  });

  it('0 always seeds, even an almost empty tree', async () => {
    const report = await seed(seedOf('tiny', 1), join(root, 'd3'), { minBytes: 0, writableWorkProducts: true });
    expect(report.outcome).toBe('seeded');
    rmSync(join(root, 'd3'), { recursive: true });
  });
});

describe('parseMinMb', () => {
  it.each(['-1', '1.5', '', ' 3', '0x10', '1e3', '99999999999999999999', '1048577', 'abc'])('rejects %j naming the flag and the value', (value) => {
    expect(() => parseMinMb('--seed-min-mb', value)).toThrow(new RegExp(`^--seed-min-mb: .*${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
  it('accepts unsigned integers', () => {
    expect([parseMinMb('--min-mb', '0'), parseMinMb('--min-mb', '20'), parseMinMb('--min-mb', '1048576')]).toEqual([0, 20, 1048576]);
  });
});
