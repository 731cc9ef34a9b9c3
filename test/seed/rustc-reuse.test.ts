/**
 * The point of seeding: rustc loads the seeded session. Real rustc, real
 * files; `-Zassert-incr-state=loaded` (RUSTC_BOOTSTRAP=1) makes rustc fail
 * unless it loaded the previous session.
 */
import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/index.ts';
import { ASSERT_LOADED, coldBuild, makeReadOnly, removeTree, rustc, snapshot, tempDir, type Entry } from './helpers.ts';

let root: string;
let work: string;
let seedDir: string;
let before: Map<string, Entry>;

beforeAll(() => {
  root = tempDir('reuse');
  ({ work, seed: seedDir } = coldBuild(root));
  makeReadOnly(seedDir); // as Bazel leaves a tree artifact
  before = snapshot(seedDir);
});
afterAll(() => removeTree(root));

function expectSeedUnchanged(): void {
  const after = snapshot(seedDir);
  expect([...after.keys()]).toEqual([...before.keys()]);
  for (const [path, entry] of before) expect(after.get(path), path).toEqual(entry);
}

function sessionOf(incr: string): { crate: string; session: string } {
  const crate = readdirSync(incr).find((n) => n.startsWith('seedtest-'))!;
  const session = readdirSync(join(incr, crate)).find((n) => !n.endsWith('.lock'))!;
  return { crate: join(incr, crate), session: join(incr, crate, session) };
}

describe('a seeded rebuild', () => {
  it('is refused by the assertion without a seed (the check can fail)', () => {
    const r = rustc(work, join(root, 'no-seed'), ASSERT_LOADED);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/should be successfully loaded/);
  });

  it('loads the seeded session; the seed keeps its bytes, modes and link counts', async () => {
    const incr = join(root, 'incr-ext4');
    const report = await seed(seedDir, incr, { minBytes: 0, writableWorkProducts: true });
    expect(report).toMatchObject({ outcome: 'seeded', layout: 'rustc' });
    const objects = [...before.keys()].filter((p) => p.endsWith('.o')).length;
    expect(objects).toBeGreaterThan(0);
    expect(report.copied).toBe(objects); // work products: inodes of their own
    expect(report.linked).toBe(report.files - objects - 1); // minus the fresh lock

    const { crate, session } = sessionOf(incr);
    expect(statSync(incr).mode & 0o777).toBe(0o755);
    expect(statSync(crate).mode & 0o777).toBe(0o755);
    expect(statSync(session).mode & 0o777).toBe(0o755);
    const lock = `${session.slice(0, session.lastIndexOf('-'))}.lock`;
    expect(statSync(lock).mode & 0o777).toBe(0o644);
    expect(statSync(lock).size).toBe(0);
    const seedSession = sessionOf(seedDir).session;
    for (const name of readdirSync(session)) {
      const [mine, theirs] = [statSync(join(session, name)), statSync(join(seedSession, name))];
      if (name.endsWith('.o')) {
        expect(mine.ino).not.toBe(theirs.ino);
        expect(mine.mode & 0o777).toBe(0o644);
      } else {
        expect(mine.ino).toBe(theirs.ino);
      }
      expect(readFileSync(join(session, name))).toEqual(readFileSync(join(seedSession, name)));
    }

    const r = rustc(work, incr, ASSERT_LOADED);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    removeTree(incr);
    expectSeedUnchanged();
  });

  it('loads a seed whose every file is a symlink into the execroot (a sandbox stages inputs that way)', async () => {
    // <ob>/execroot/ws/bazel-out is the seed here; the sandbox's copy of the
    // tree links each file to it, through that path, as Bazel does.
    const ob = join(root, 'ob');
    mkdirSync(join(ob, 'execroot/ws'), { recursive: true });
    symlinkSync(seedDir, join(ob, 'execroot/ws/bazel-out'));
    const cwd = join(ob, 'sandbox/linux-sandbox/1/execroot/ws');
    const farm = join(cwd, 'bazel-out');
    mkdirSync(cwd, { recursive: true });
    const mirror = (src: string, dst: string): void => {
      mkdirSync(dst);
      for (const name of readdirSync(src)) {
        const s = join(src, name);
        if (lstatSync(s).isDirectory()) mirror(s, join(dst, name));
        else symlinkSync(s, join(dst, name));
      }
    };
    mirror(join(ob, 'execroot/ws/bazel-out'), farm);
    const incr = join(root, 'incr-farm');
    const report = await seed(farm, incr, { minBytes: 0, writableWorkProducts: true, cwd });
    expect(report).toMatchObject({ outcome: 'seeded', skipped: [] });
    const { session } = sessionOf(incr);
    for (const name of readdirSync(session)) expect(lstatSync(join(session, name)).isFile()).toBe(true);

    const r = rustc(work, incr, ASSERT_LOADED);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    removeTree(incr);
    removeTree(ob);
    expectSeedUnchanged();
  });

  it('loads a seed copied to /dev/shm (link(2) gives a real EXDEV there)', async () => {
    const shm = tempDir('shm', '/dev/shm');
    try {
      const incr = join(shm, 'incr');
      const report = await seed(seedDir, incr, { minBytes: 0, writableWorkProducts: true });
      expect(report.linked).toBe(0);
      expect(report.copied).toBe(report.files - 1);
      const r = rustc(work, incr, ASSERT_LOADED);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      removeTree(shm);
    }
    expectSeedUnchanged();
  });
});
