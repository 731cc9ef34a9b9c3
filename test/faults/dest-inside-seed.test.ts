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
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BUNDLE, fingerprint, NODE, runSeed, scratch, seedArgs } from './helpers.ts';

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

/**
 * Issue 10, item 11: a seed holding a symlink to DEST's parent was accepted,
 * so DEST ended up inside the seed as walked. Such a symlink is followed only
 * when it leads into the seed or the execroot's output tree (item 1); where it
 * would be followed, the seed is refused like DEST inside SRC.
 */
describe('DEST inside the seed through a symlink', () => {
  it.each(['command', 'wrapper'] as const)("%s, unsandboxed action in the real execroot: a symlink to DEST's parent refuses the seed", async (mode) => {
    const root = scratch('dest-via-link');
    const pkg = join(root, 'ob/execroot/ws/bazel-out/k8/bin/pkg');
    const seed = join(pkg, 'seed');
    mkdirSync(join(seed, 'a'), { recursive: true });
    writeFileSync(join(seed, 'a', 'f'), 'x');
    symlinkSync('../..', join(seed, 'a', 'up')); // pkg: DEST's parent
    const dest = join(pkg, 'incr');
    const before = fingerprint(seed);
    mkdirSync(join(root, 'ob/execroot/ws'), { recursive: true });
    const run = await execa(NODE, [BUNDLE, ...seedArgs(mode, seed, dest)], { cwd: join(root, 'ob/execroot/ws'), reject: false, timeout: 60_000 });
    const r = { exitCode: run.exitCode, stderr: String(run.stderr) };
    expect(r.stderr).toContain(`seed destination ${dest} is inside the seed, through the symlink ${join(seed, 'a', 'up')} -> ${pkg}`);
    if (mode === 'command') expect(r.exitCode).toBe(1);
    else expect(r.stderr).toMatch(/^seedwrap: starting cold: --copy-seed /);
    expect(fingerprint(seed)).toEqual(before);
    expect(readdirSync(pkg).sort()).toEqual(['incr', 'seed']);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('from a shell (no execroot): the symlink leads out of the seed and is skipped; DEST is seeded without it', async () => {
    const root = scratch('dest-via-link-shell');
    const seed = join(root, 'seed');
    mkdirSync(seed);
    writeFileSync(join(seed, 'f'), 'x');
    symlinkSync(root, join(seed, 'up'));
    const dest = join(root, 'dest');
    const r = await runSeed('command', seed, dest);
    expect(r.exitCode).toBe(0);
    expect(readdirSync(dest)).toEqual(['f']);
  });
});
