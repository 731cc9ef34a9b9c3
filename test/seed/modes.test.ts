/**
 * Issue 10, item 2: a copy is never more permissive than its source: no
 * set-user-ID, set-group-ID or sticky bit, no group/other permission the
 * source lacks. Mode bits are asserted (we run as root, which ignores them).
 * Both kinds of copy: a link refused across filesystems (DEST on /dev/shm,
 * a real EXDEV) and rustc's `*.o` work products, which always get an inode of
 * their own (and owner read/write, which rustc needs); by both placement loops.
 */
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, isRoot, NODE } from '../faults/helpers.ts';
import { removeTree, tempDir } from './helpers.ts';

const MODES = [0o4755, 0o2750, 0o6711, 0o1644, 0o640, 0o604, 0o600, 0o444, 0o400, 0o700] as const;

let root: string;
let shm: string;
beforeAll(() => {
  root = tempDir('modes');
  shm = tempDir('modes', '/dev/shm');
});
afterAll(() => {
  removeTree(root);
  removeTree(shm);
});

/** One file per mode; as root the set-ID files belong to nobody, as the 4755 file did. */
function filesWithModes(dir: string, suffix: string): void {
  mkdirSync(dir, { recursive: true });
  for (const mode of MODES) {
    const path = join(dir, `m${mode.toString(8)}${suffix}`);
    writeFileSync(path, `mode ${mode.toString(8)}\n`);
    if (isRoot) chownSync(path, 65534, 65534);
    chmodSync(path, mode); // after chown, which clears set-ID bits
  }
}

async function seedCli(src: string, dest: string, strategy: string): Promise<{ linked: number; copied: number }> {
  const r = await execa(NODE, [BUNDLE, 'seed', '--json', src, dest], { reject: false, timeout: 30_000, env: { SEEDWRAP_SEED_STRATEGY: strategy } });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  return JSON.parse(String(r.stdout)) as { linked: number; copied: number };
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o7777;
}

describe.each(['sync', 'threads'])('copies never widen permissions (%s)', (strategy) => {
  it('a link refused across filesystems (EXDEV) gives a copy with the source permission bits only', async () => {
    const src = join(root, `exdev-${strategy}`);
    filesWithModes(src, '');
    for (const mode of MODES) expect(modeOf(join(src, `m${mode.toString(8)}`))).toBe(mode); // the set-ID bits took
    const dest = join(shm, `exdev-${strategy}`);
    const report = await seedCli(src, dest, strategy);
    expect(report).toMatchObject({ linked: 0, copied: MODES.length });
    for (const mode of MODES) expect([mode.toString(8), modeOf(join(dest, `m${mode.toString(8)}`)).toString(8)]).toEqual([mode.toString(8), (mode & 0o777).toString(8)]);
  });

  it("rustc's *.o work products: owner read/write added, group/other only as the source has them, no set-ID bit", async () => {
    const src = join(root, `rustc-${strategy}`);
    const session = join(src, 'c-1ab/s-a-b-c');
    filesWithModes(session, '.o');
    writeFileSync(join(src, 'c-1ab/s-a-b.lock'), '');
    const dest = join(root, `rustc-${strategy}-dest`);
    const report = await seedCli(src, dest, strategy);
    expect(report.copied).toBe(MODES.length);
    for (const mode of MODES) {
      const got = modeOf(join(dest, `c-1ab/s-a-b-c/m${mode.toString(8)}.o`));
      expect([mode.toString(8), got.toString(8)]).toEqual([mode.toString(8), ((mode & 0o777) | 0o600).toString(8)]);
    }
  });
});
