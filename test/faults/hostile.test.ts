/**
 * Hostile trees as seeds, through the built `seedwrap seed`: each has a
 * documented outcome (docs/reliability.md), none hangs (every run has a
 * timeout), nothing outside DEST is written, the seed never changes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { symlinkDag } from '../helpers/trees.ts';
import { destState, fingerprint, isRoot, nuke, runSeed, scratch, staging, withoutLinks } from './helpers.ts';

async function seedJson(src: string, dest: string, timeout = 30_000) {
  const r = await runSeed('command', src, dest, {}, timeout);
  return r;
}

/** `seedwrap seed --json` is not in seedArgs: run it directly for the report. */
async function report(src: string, dest: string): Promise<{ files: number; skipped: Array<{ path: string; reason: string }> }> {
  const { execa } = await import('execa');
  const { BUNDLE, NODE } = await import('./helpers.ts');
  const r = await execa(NODE, [BUNDLE, 'seed', '--json', src, dest], { reject: false, timeout: 30_000 });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  return JSON.parse(String(r.stdout)) as { files: number; skipped: Array<{ path: string; reason: string }> };
}

describe('a seed full of hostile entries', () => {
  it('cycles, symlinks out of the tree (absolute and relative, to files and dirs), FIFOs, sockets, devices, dangling links, odd names', async () => {
    const root = scratch('hostile');
    const outside = join(root, 'outside');
    mkdirSync(join(outside, 'sub'), { recursive: true });
    writeFileSync(join(outside, 'sub', 'o.txt'), 'outside');
    const seed = join(root, 'seed');
    mkdirSync(join(seed, 'a'), { recursive: true });
    mkdirSync(join(seed, 'b'));
    writeFileSync(join(seed, 'a', 'f'), 'inside');
    symlinkSync('..', join(seed, 'a', 'loop')); // cycle through an ancestor
    symlinkSync('.', join(seed, 'b', 'self')); // cycle to itself
    symlinkSync(outside, join(seed, 'absdir')); // absolute, to a directory elsewhere
    symlinkSync(join(outside, 'sub', 'o.txt'), join(seed, 'absfile'));
    symlinkSync('../outside/sub/o.txt', join(seed, 'rel-escape'));
    symlinkSync('nowhere', join(seed, 'dangling'));
    execFileSync('mkfifo', [join(seed, 'fifo')]);
    symlinkSync('fifo', join(seed, 'fifo-link'));
    // A listening socket's file stays when the process exits without close().
    execFileSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(join(seed, 'sock'))}, () => process.exit(0))`]);
    if (isRoot) {
      execFileSync('mknod', [join(seed, 'null'), 'c', '1', '3']);
      execFileSync('mknod', [join(seed, 'blk'), 'b', '7', '200']);
    }
    writeFileSync(join(seed, 'new\nline'), 'n');
    writeFileSync(join(seed, 'tab\there'), 't');
    writeFileSync(join(seed, ' lead and trail '), 's');
    const seedBefore = fingerprint(seed);
    const outsideBefore = fingerprint(outside);
    const rootBefore = readdirSync(root).sort();

    const dest = join(root, 'out', 'dest');
    const r = await report(seed, dest);
    const reasons = Object.fromEntries(r.skipped.map((s) => [s.path.slice(seed.length + 1), s.reason]));
    expect(reasons).toEqual({
      'a/loop': 'directory cycle',
      'b/self': 'directory cycle',
      dangling: 'dangling symlink',
      fifo: 'FIFO',
      'fifo-link': 'symlink to a FIFO',
      sock: 'socket',
      // Symlinks are followed only within the seed (or the execroot's output tree): issue 10, item 1.
      absdir: `symlink to ${outside}, outside the seed and the execroot's output tree`,
      absfile: `symlink to ${join(outside, 'sub', 'o.txt')}, outside the seed and the execroot's output tree`,
      'rel-escape': `symlink to ${join(outside, 'sub', 'o.txt')}, outside the seed and the execroot's output tree`,
      ...(isRoot ? { null: 'device', blk: 'device' } : {}),
    });
    // DEST holds only directories and regular files: symlinks are resolved, specials dropped.
    const got = fingerprint(dest);
    expect([...got.values()].every((e) => e.type === 'file' || e.type === 'dir')).toBe(true);
    expect([...got.keys()].sort()).toEqual(
      ['a', 'a/f', 'b', 'new\nline', 'tab\there', ' lead and trail '].sort(),
    );
    // Nothing outside the seed is linked into DEST: the targets keep bytes, modes and link counts.
    expect(fingerprint(outside)).toEqual(outsideBefore);
    expect(readdirSync(root).sort()).toEqual([...rootBefore, 'out'].sort());
    expect(readdirSync(join(root, 'out'))).toEqual(['dest']);
    expect(withoutLinks(fingerprint(seed))).toEqual(withoutLinks(seedBefore));
    nuke(dest);
    expect(fingerprint(seed)).toEqual(seedBefore);
    expect(fingerprint(outside)).toEqual(outsideBefore);
  });

  it('names that are not valid UTF-8: the seed fails cleanly (ENOENT on the decoded name), DEST empty, nothing else touched', async () => {
    const root = scratch('badutf8');
    const seed = join(root, 'seed');
    mkdirSync(seed);
    writeFileSync(join(seed, 'ok'), 'ok');
    for (const name of [Buffer.from([0xff, 0xfe]), Buffer.from('ok-\xc3\x28', 'latin1')]) {
      writeFileSync(Buffer.concat([Buffer.from(seed + '/'), name]), name);
    }
    const before = fingerprint(seed);
    const dest = join(root, 'out', 'dest');
    const r = await seedJson(seed, dest);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^seedwrap seed: cannot (seed|read the seed) .*ENOENT/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(destState(dest, undefined)).toMatch(/absent|empty/);
    expect(staging(dest)).toEqual([]);
    expect(fingerprint(seed)).toEqual(before);
  });
});

describe('deep and wide trees', () => {
  /**
   * `depth` nested directories named `d`, a file at the bottom. Built by a
   * child process that chdirs down (paths exceed PATH_MAX; a vitest worker
   * thread cannot chdir).
   */
  function nest(dir: string, depth: number): void {
    mkdirSync(dir, { recursive: true });
    const code = `const fs = require('fs'); for (let i = 0; i < ${depth}; i++) { fs.mkdirSync('d'); process.chdir('d'); } fs.writeFileSync('leaf', 'leaf');`;
    execFileSync(process.execPath, ['-e', code], { cwd: dir });
  }

  it('10,000-deep nesting: a clean one-line ENAMETOOLONG (no stack overflow, no hang); DEST absent, no staging', async () => {
    const root = scratch('deep', '/dev/shm'); // tmpfs: 10,000 mkdirs and the rm -rf are I/O-free
    const seed = join(root, 'seed');
    nest(seed, 10_000);
    const dest = join(root, 'out', 'dest');
    const t0 = Date.now();
    const r = await seedJson(seed, dest, 60_000);
    expect(r.timedOut).toBe(false);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^seedwrap seed: cannot read the seed .*ENAMETOOLONG/);
    expect(r.stderr).not.toMatch(/internal error|RangeError|Maximum call stack/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(destState(dest, undefined)).toMatch(/absent|empty/);
    expect(staging(dest)).toEqual([]);
  });

  it('1,000-deep nesting (paths within PATH_MAX) is seeded completely', async () => {
    const root = scratch('deep1k', '/dev/shm');
    const seed = join(root, 'seed');
    nest(seed, 1_000);
    const dest = join(root, 'dest');
    const r = await seedJson(seed, dest);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^seeded 1 files/);
    const leaf = join(dest, ...Array.from({ length: 1000 }, () => 'd'), 'leaf');
    expect(execFileSync('cat', [leaf], { encoding: 'utf8' })).toBe('leaf');
  });

  it('a DAG of directory symlinks is expanded path by path (k=7 levels of two links: 2^(k+2)-k-3 files)', async () => {
    // Small DAGs are expanded; large ones are refused (256 visits per real
    // directory, e058d30): symlink-dag.test.ts.
    const root = scratch('dag');
    const k = 7;
    const seed = symlinkDag(join(root, 'seed'), k);
    const r = await report(seed, join(root, 'dest'));
    expect(r.files).toBe(2 ** (k + 2) - k - 3);
  });
});
