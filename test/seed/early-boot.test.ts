/**
 * Seed workers booted while the seed is still being walked (strategy.ts
 * `earlyBoot`): they do the placing when threads are chosen, and are dismissed
 * whenever they are not used (below the threshold, a refused seed), so the
 * process still exits. Runs the built bundle as Bazel would: a worker left
 * waiting for its job would keep the process alive and the test would time out.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedTree } from '../../src/seed/index.ts';
import { BOOT_AT } from '../../src/seed/strategy.ts';
import { symlinkDag } from '../helpers/trees.ts';
import { runBundle } from '../helpers/wrapper.ts';
import { removeTree, tempDir } from './helpers.ts';

const FILES = BOOT_AT + 500;
const DEBUG = { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1', SEEDWRAP_SEED_STRATEGY: 'threads' };
let root: string;
let big: string;

beforeAll(() => {
  root = tempDir('early-boot');
  big = join(root, 'big');
  mkdirSync(big);
  // All files at the top: the walk has found FILES of them before it enters any subdirectory.
  for (let i = 0; i < FILES; i++) writeFileSync(join(big, `f${i}`), `${i}`);
  return () => removeTree(root);
});

const seedOnly = (src: string, dest: string, minMb: string): string[] => ['--copy-seed', src, dest, '--seed-min-mb', minMb, '--', '/bin/true'];

describe(`workers booted once the walk has found ${BOOT_AT} files`, () => {
  it('place the files when threads are chosen', async () => {
    const dest = join(root, 'dest-threads');
    const r = await runBundle(seedOnly(big, dest, '0'), { cwd: root, env: DEBUG });
    const log = r.stderr.toString();
    expect(r.exitCode, log).toBe(0);
    expect(log).toMatch(new RegExp(`booting \\d+ seed worker\\(s\\) after ${FILES} files`));
    expect(log).toMatch(/strategy threads \(.*booted during the walk\)/);
    expect(log).toMatch(new RegExp(`seeded, ${FILES} linked, 0 copied`));
    expect(log).not.toContain('dismissed');
    expect(readdirSync(dest)).toHaveLength(FILES);
    expect(statSync(join(dest, 'f7')).ino).toBe(statSync(join(big, 'f7')).ino);
  });

  it('are dismissed below the threshold, and the process exits', async () => {
    const dest = join(root, 'dest-small');
    const r = await runBundle(seedOnly(big, dest, '1000'), { cwd: root, env: DEBUG });
    const log = r.stderr.toString();
    expect(r.exitCode, log).toBe(0);
    expect(log).toMatch(/booting \d+ seed worker/);
    expect(log).toMatch(/dismissed \d+ unused seed worker/);
    expect(log).toContain('below-threshold');
    expect(readdirSync(dest)).toEqual([]);
  });

  it('are dismissed when the walk refuses the seed after booting them; rustc still runs, cold', async () => {
    const src = join(root, 'dag');
    mkdirSync(src);
    for (let i = 0; i < FILES; i++) writeFileSync(join(src, `f${i}`), `${i}`);
    symlinkDag(src, 24); // refused (walk.ts MAX_VISITS)
    const dest = join(root, 'dest-dag');
    const ran = join(root, 'ran');
    const r = await runBundle(['--copy-seed', src, dest, '--seed-min-mb', '0', '--touch-file', ran, '--', '/bin/true'], { cwd: root, env: DEBUG });
    const log = r.stderr.toString();
    expect(r.exitCode, log).toBe(0);
    expect(log).toMatch(/booting \d+ seed worker/);
    expect(log).toMatch(/dismissed \d+ unused seed worker/);
    expect(log).toMatch(/starting cold: .*refusing to seed a symlink DAG/);
    expect(readdirSync(dest)).toEqual([]);
    expect(readdirSync(root).filter((n) => n.includes('staging'))).toEqual([]);
    expect(statSync(ran).isFile()).toBe(true);
  });

  it('are never booted for a dry run, even when threads are forced', async () => {
    const lines: string[] = [];
    process.env.SEEDWRAP_SEED_STRATEGY = 'threads';
    try {
      const report = await seedTree(big, join(root, 'dest-dry'), { minBytes: 0, writableWorkProducts: true, dryRun: true, debug: (l) => lines.push(l) }, true);
      expect(report).toMatchObject({ files: FILES, strategy: 'dry-run' });
    } finally {
      delete process.env.SEEDWRAP_SEED_STRATEGY;
    }
    expect(lines.join('\n')).not.toMatch(/seed worker/);
  });
});
