/** The three placement loops build identical trees, on ext4 (links) and across devices (copies). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed, seedTree } from '../../src/seed/index.ts';
import { removeTree, snapshot, tempDir } from './helpers.ts';

let root: string;
let src: string;
const shm = tempDir('strategies', '/dev/shm');
beforeAll(() => {
  root = tempDir('strategies');
  src = join(root, 'incr');
  for (let c = 0; c < 3; c++) {
    const session = join(src, `krate${c}-0abc`, 's-hocbbbbbbb-0bbbbbb-svh');
    mkdirSync(session, { recursive: true });
    writeFileSync(join(src, `krate${c}-0abc`, 's-hocbbbbbbb-0bbbbbb.lock'), '');
    for (let f = 0; f < 70; f++) writeFileSync(join(session, f % 2 ? `cgu${f}.o` : `q${f}.bin`), `content ${c} ${f}`, { mode: 0o444 });
  }
});
afterAll(() => {
  removeTree(root);
  removeTree(shm);
});

/** The shape of a tree without inode numbers (which differ by design between runs). */
function shape(dir: string): Record<string, unknown> {
  return Object.fromEntries([...snapshot(dir)].map(([k, { ino: _ino, ...rest }]) => [k, rest]));
}

describe.each([['ext4', () => root], ['/dev/shm', () => shm]])('on %s', (_name, base) => {
  it('sync, async and threads agree on files, modes, contents and counts', async () => {
    const results = [];
    for (const strategy of ['sync', 'async', 'threads']) {
      process.env.SEEDWRAP_SEED_STRATEGY = strategy;
      const dest = join(base(), `dest-${strategy}`);
      try {
        const report = await seed(src, dest, { minBytes: 0, writableWorkProducts: true });
        expect(report.strategy).toBe(strategy);
        results.push({ counts: [report.files, report.linked, report.copied, report.bytes], shape: shape(dest) });
        removeTree(dest); // link counts of the next run must not see this one
      } finally {
        delete process.env.SEEDWRAP_SEED_STRATEGY;
      }
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    const [files, linked, copied] = results[0]!.counts;
    expect(files).toBe(213);
    expect(copied).toBe(base() === shm ? 210 : 105);
    expect(linked).toBe(base() === shm ? 0 : 105);
  });
});

describe('a mirrored tree with empty directories, directories holding only directories, and one directory split into chunks', () => {
  it('sync, async and threads build the same tree, modes included', async () => {
    const base = tempDir('strategies-mirror');
    const src = join(base, 'tree');
    // With threads, each chunk's claimer makes its directory (recursive, racing
    // the other thread for a split directory's later chunks) and the main
    // thread makes only the directories without files.
    mkdirSync(join(src, 'empty', 'nested-empty'), { recursive: true });
    mkdirSync(join(src, 'only-dirs', 'x', 'y'), { recursive: true, mode: 0o750 });
    writeFileSync(join(src, 'only-dirs', 'x', 'y', 'deep.txt'), 'deep');
    mkdirSync(join(src, 'big'), { mode: 0o750 });
    for (let i = 0; i < 2500; i++) writeFileSync(join(src, 'big', `f${i}`), `${i}`); // 3 chunks of at most 1024
    writeFileSync(join(src, 'top.txt'), 'top');
    try {
      const results = [];
      for (const strategy of ['sync', 'async', 'threads']) {
        process.env.SEEDWRAP_SEED_STRATEGY = strategy;
        const dest = join(base, `dest-${strategy}`);
        try {
          const report = await seed(src, dest, { minBytes: 0, writableWorkProducts: false });
          expect(report).toMatchObject({ strategy, layout: 'mirror', files: 2502, linked: 2502, copied: 0 });
          results.push(shape(dest));
          removeTree(dest);
        } finally {
          delete process.env.SEEDWRAP_SEED_STRATEGY;
        }
      }
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
      expect(results[0]!['empty/nested-empty']).toMatchObject({ type: 'dir' });
      expect(results[0]!['only-dirs/x']).toMatchObject({ type: 'dir', mode: 0o750 | 0o700 });
      expect(results[0]!['big']).toMatchObject({ type: 'dir', mode: 0o750 | 0o700 });
    } finally {
      removeTree(base);
    }
  });
});

describe('the exact byte count of `seedwrap seed` (seedTree with exactBytes)', () => {
  // Files past the --min-mb threshold are counted by whichever thread places
  // them (a worker adds its count in shared memory): every strategy, with the
  // threshold counting nothing, part or all up front, must give the exact sum.
  it('is the sum of every seeded file, from every strategy and threshold', async () => {
    const base = tempDir('strategies-bytes');
    const src = join(base, 'tree');
    let total = 0;
    for (let d = 0; d < 100; d++) {
      mkdirSync(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) {
        const size = (d * 100 + f) % 997;
        writeFileSync(join(src, `d${d}`, `f${f}`), Buffer.alloc(size, 1));
        total += size;
      }
    }
    try {
      const third = Math.floor(total / 3);
      for (const [strategy, thresholds] of [['sync', [0, third]], ['async', [third]], ['threads', [0, third, total]]] as const) {
        for (const minBytes of thresholds) {
          process.env.SEEDWRAP_SEED_STRATEGY = strategy;
          const dest = join(base, `dest-${strategy}-${minBytes}`);
          try {
            const report = await seedTree(src, dest, { minBytes, writableWorkProducts: true }, true);
            expect(report, `${strategy}, threshold ${minBytes}`).toMatchObject({ outcome: 'seeded', strategy, files: 10_000, linked: 10_000, bytes: total });
            removeTree(dest);
          } finally {
            delete process.env.SEEDWRAP_SEED_STRATEGY;
          }
        }
      }
    } finally {
      removeTree(base);
    }
  }, 300_000); // six seeds of 10,000 files: a hang guard sized for a busy 2-core machine (load 25 took 90 s)
});
