/**
 * Nothing partial, ever: a real fault in the middle of a seed (a source file
 * that vanishes after planning) and a real SIGKILL of a seeding process.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedwrapError } from '../../src/errors.ts';
import { seed } from '../../src/seed/index.ts';
import { bundleSeedCli, linkedTree, removeTree, tempDir } from './helpers.ts';

let root: string;
beforeAll(() => {
  root = tempDir('failure');
});
afterAll(() => removeTree(root));

function staging(parent: string): string[] {
  return readdirSync(parent).filter((n) => n.includes('.seedwrap-staging-'));
}

describe.each(['sync', 'async', 'threads'])('a source file vanishing mid-seed (%s)', (strategy) => {
  it('fails with one line naming the file, leaves DEST empty and no staging', async () => {
    const src = join(root, `vanish-${strategy}`);
    for (let d = 0; d < 40; d++) {
      mkdirSync(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 50; f++) writeFileSync(join(src, `d${d}`, `f${f}`), 'x');
    }
    const parent = join(root, `out-${strategy}`);
    mkdirSync(parent);
    let vanished = false;
    const onProgress = (): void => {
      if (vanished) return;
      vanished = true;
      for (let d = 20; d < 40; d++) rmSync(join(src, `d${d}`), { recursive: true }); // a real ENOENT for link(2) and copy
    };
    process.env.SEEDWRAP_SEED_STRATEGY = strategy;
    try {
      const err = await seed(src, join(parent, 'dest'), { minBytes: 0, writableWorkProducts: false, onProgress }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SeedwrapError);
      expect((err as SeedwrapError).code).toBe('SEED');
      expect((err as SeedwrapError).message).toMatch(new RegExp(`ENOENT.*${src}/d(2|3)\\d/f\\d+`));
      expect((err as SeedwrapError).message).not.toContain('\n');
    } finally {
      delete process.env.SEEDWRAP_SEED_STRATEGY;
    }
    expect(readdirSync(parent)).toEqual(['dest']);
    expect(readdirSync(join(parent, 'dest'))).toEqual([]);
  });
});

describe('kill -9 during a large seed', () => {
  it('leaves no partial DEST, and the next run removes the staging directory', async () => {
    const cli = await bundleSeedCli(root);
    const big = join(root, 'big');
    const total = linkedTree(big, 250, 160); // 40,000 files
    const parent = join(root, 'kill');
    mkdirSync(parent);
    const dest = join(parent, 'dest');
    const child = spawn(process.execPath, [cli, join(big, 'tree'), dest], { stdio: 'ignore', env: { ...process.env, SEEDWRAP_SEED_STRATEGY: 'sync' } });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    while (staging(parent).length === 0) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 40)); // let it place some files
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const left = staging(parent);
    expect(left).toHaveLength(1);
    expect(readdirSync(parent)).toEqual(left); // no DEST at all, not even a partial one
    expect(readdirSync(join(parent, left[0]!)).length).toBeGreaterThan(0); // it was killed mid-way

    const report = await seed(join(big, 'tree'), dest, { minBytes: 0, writableWorkProducts: false });
    expect(report.files).toBe(total);
    expect(readdirSync(parent)).toEqual(['dest']);
  });
});

/**
 * Issue 10, item 11: the clean-up removed every `.<DEST>.seedwrap-staging-*`
 * name whose pid part was not a number (Number('notes.txt') is NaN), so a
 * user's `.dest.seedwrap-staging-notes.txt` was deleted. Only directories named
 * exactly as createStaging names them, with a pid that is gone, are removed.
 * 4194305 is above Linux's largest possible pid (2^22): never alive.
 */
describe('leftover clean-up', () => {
  it("removes a dead run's staging directory and nothing else that merely shares the prefix", async () => {
    const parent = join(root, 'lookalikes');
    mkdirSync(join(parent, 'src'), { recursive: true });
    writeFileSync(join(parent, 'src/f'), 'f');
    const p = '.dest.seedwrap-staging-';
    const dead = `${p}4194305-deadbeef`;
    mkdirSync(join(parent, dead));
    writeFileSync(join(parent, dead, 'half-placed'), '');
    const theirs = [`${p}notes.txt`, `${p}notes`, `${p}4194305-deadbeef.bak`, `${p}4194305-cafebabe`, `${p}-1-abcdabcd`, `${p}0-abcdabcd`, `${p}12x-abcdabcd`];
    for (const name of theirs) {
      if (name.endsWith('notes')) mkdirSync(join(parent, name));
      else writeFileSync(join(parent, name), 'mine'); // `…4194305-cafebabe` is named like ours but is a file
    }
    await seed(join(parent, 'src'), join(parent, 'dest'), { minBytes: 0, writableWorkProducts: false });
    expect(readdirSync(parent).sort()).toEqual(['dest', 'src', ...theirs].sort());
  });
});
