/**
 * Where no worker thread can be started, seeding still completes on the main
 * thread. MOCKED: the Worker constructor throws. The real fault (thread
 * creation refused by a sandbox's or container's limits) cannot be produced
 * here: we run as root, and RLIMIT_NPROC does not bind root.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it, vi } from 'vitest';
import { seed } from '../../src/seed/index.ts';
import { BOOT_AT } from '../../src/seed/strategy.ts';
import { removeTree, tempDir } from './helpers.ts';

vi.mock('node:worker_threads', async (importOriginal) => ({
  ...(await importOriginal<typeof import('node:worker_threads')>()),
  Worker: class {
    constructor() {
      throw Object.assign(new Error('Worker initialization failure: EAGAIN'), { code: 'ERR_WORKER_INIT_FAILED' });
    }
  },
}));

const FILES = BOOT_AT + 100;
let root: string;
beforeAll(() => {
  root = tempDir('no-threads');
  const src = join(root, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(join(src, i % 2 ? 'sub' : '', `f${i}`), `${i}`);
  return () => removeTree(root);
});

it('threads asked for, no worker can start: the early boot and the strategy both fall back, every file is placed on the main thread', async () => {
  const lines: string[] = [];
  process.env.SEEDWRAP_SEED_STRATEGY = 'threads';
  try {
    const dest = join(root, 'dest');
    const report = await seed(join(root, 'src'), dest, { minBytes: 0, writableWorkProducts: false, debug: (l) => lines.push(l) });
    expect(report).toMatchObject({ outcome: 'seeded', strategy: 'sync', files: FILES, linked: FILES, copied: 0 });
    expect(readdirSync(dest).length + readdirSync(join(dest, 'sub')).length).toBe(FILES + 1);
  } finally {
    delete process.env.SEEDWRAP_SEED_STRATEGY;
  }
  const log = lines.join('\n');
  expect(log).toMatch(/could not boot a seed worker early: .*EAGAIN/);
  expect(log).toMatch(/no seed worker could be started \(.*EAGAIN\); placing every file on the main thread/);
});
