/** Seeds that must be refused or stopped: DEST inside the seed, symlink DAGs, signals. */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedwrapError } from '../../src/errors.ts';
import { seed } from '../../src/seed/index.ts';
import { MAX_VISITS } from '../../src/seed/walk.ts';
import { symlinkDag } from '../helpers/trees.ts';
import { bundleSeedCli, linkedTree, removeTree, snapshot, tempDir } from './helpers.ts';

let root: string;
beforeAll(() => {
  root = tempDir('hostile');
});
afterAll(() => removeTree(root));

const opts = { minBytes: 0, writableWorkProducts: false };

describe('DEST inside the seed', () => {
  it.each(['inner', 'a/inner', 'a/b/c/inner', '.'])('SRC/%s is refused and the seed is untouched', async (rel) => {
    const src = join(root, `inside-${rel.replace(/\W/g, '_')}`);
    mkdirSync(join(src, 'a'), { recursive: true });
    writeFileSync(join(src, 'a/f'), 'x');
    symlinkSync(src, `${src}-link`); // and reached through a symlink to the seed
    const before = snapshot(src);
    for (const dest of [join(src, rel), join(`${src}-link`, rel)]) {
      await expect(seed(src, dest, opts)).rejects.toThrow(new RegExp(`inside the seed ${src}`));
    }
    expect(snapshot(src)).toEqual(before);
  });
});

describe('a symlink DAG', () => {
  const dag = (name: string, k: number): string => symlinkDag(join(root, name), k);

  it('7 levels (the deepest directory reached 255 times) are expanded path by path', async () => {
    const report = await seed(dag('dag7', 7), join(root, 'dag7-dest'), opts);
    expect(report.files).toBe(2 ** 9 - 7 - 3);
  });

  it('24 levels: refused quickly, nothing left behind', async () => {
    const src = dag('dag', 24);
    const started = performance.now();
    const err = await seed(src, join(root, 'dag-dest'), opts).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(60_000); // unbounded, 2^24 paths take hours
    expect(err).toBeInstanceOf(SeedwrapError);
    expect((err as Error).message).toMatch(new RegExp(`more than ${MAX_VISITS} times`));
    expect(readdirSync(join(root, 'dag-dest'))).toEqual([]);
    expect(readdirSync(root).filter((n) => n.includes('staging'))).toEqual([]);
  });

  it('a directory linked a few times is still seeded once per link', async () => {
    const src = join(root, 'fan');
    mkdirSync(join(src, 'shared'), { recursive: true });
    writeFileSync(join(src, 'shared/f'), 'f');
    for (let i = 0; i < 3; i++) symlinkSync('shared', join(src, `view${i}`));
    const report = await seed(src, join(root, 'fan-dest'), opts);
    expect(report.files).toBe(4);
  });
});

describe('signals', () => {
  it('an aborted signal stops a seed in progress: SEED "interrupted", DEST empty, no staging', async () => {
    const big = join(root, 'abort');
    linkedTree(big, 100, 60);
    const controller = new AbortController();
    const parent = join(root, 'abort-out');
    mkdirSync(parent);
    const err = await seed(join(big, 'tree'), join(parent, 'dest'), { ...opts, signal: controller.signal, onProgress: () => controller.abort('SIGTERM') }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('interrupted by SIGTERM');
    expect(readdirSync(parent)).toEqual(['dest']);
    expect(readdirSync(join(parent, 'dest'))).toEqual([]);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('`seedwrap seed` stopped by %s exits %i, DEST empty, no staging', async (sig, code) => {
    const cli = await bundleSeedCli(root);
    const big = join(root, `sig-${sig}`);
    linkedTree(big, 250, 160); // 40,000 files
    const parent = join(root, `sig-${sig}-out`);
    mkdirSync(parent);
    const child = spawn(process.execPath, [cli, join(big, 'tree'), join(parent, 'dest')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SEEDWRAP_SEED_STRATEGY: 'sync' } });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    while (!readdirSync(parent).some((n) => n.includes('staging'))) await new Promise((r) => setTimeout(r, 2));
    child.kill(sig);
    expect(await exited).toBe(code);
    expect(stderr).toBe(`seedwrap seed: interrupted by ${sig}; nothing seeded\n`);
    expect(readdirSync(parent)).toEqual(['dest']);
    expect(readdirSync(join(parent, 'dest'))).toEqual([]);
  });
});
