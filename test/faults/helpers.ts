/**
 * Shared by the fault-injection suites: real seeds on disk, the built bundle
 * run as a real process, and the three checks every fault ends with:
 *   1. the seed source is bit-identical (bytes, mode bits, link counts, types);
 *   2. DEST is absent, an empty directory, or complete;
 *   3. no staging directory is left behind (after the next run at the latest).
 * Paths are handled as Buffers where names may be invalid UTF-8.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterEach, expect } from 'vitest';
import { BUNDLE as BUILT, NODE } from '../helpers/wrapper.ts';

/** dist/seedwrap.cjs (CI builds it first); SEEDWRAP_BUNDLE points the suites at another build. */
export const BUNDLE = process.env.SEEDWRAP_BUNDLE ?? BUILT;
export { NODE };

export const isRoot = process.getuid?.() === 0;

export interface Entry {
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'device';
  mode: number;
  nlink: number;
  size: number;
  sha?: string;
  target?: string;
}

const SLASH = Buffer.from('/');

/** Every entry under root (not following symlinks), keyed by its relative path (latin1, so any bytes survive). */
export function fingerprint(root: string | Buffer): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const visit = (dir: Buffer, rel: string): void => {
    const names = readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare);
    for (const name of names) {
      const path = Buffer.concat([dir, SLASH, name]);
      const r = rel === '' ? name.toString('latin1') : `${rel}/${name.toString('latin1')}`;
      const st = lstatSync(path);
      const type: Entry['type'] = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : 'device';
      const e: Entry = { type, mode: st.mode & 0o7777, nlink: st.nlink, size: st.size };
      if (type === 'file') e.sha = createHash('sha256').update(readFileSync(path)).digest('hex');
      if (type === 'symlink') e.target = readlinkSync(path, { encoding: 'buffer' }).toString('latin1');
      out.set(r, e);
      if (type === 'dir') visit(path, r);
    }
  };
  visit(Buffer.isBuffer(root) ? root : Buffer.from(root), '');
  return out;
}

/** Deterministic bytes, different for every file. */
export function bytesFor(seedNo: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  let x = (seedNo * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** A plain (mirror-layout) seed: `dirs` directories of `files` files of `size` bytes, assorted modes. */
export function makeSeed(root: string, dirs: number, files: number, size: number): string {
  let n = 0;
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `d${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < files; f++) {
      const p = join(dir, `f${f}.bin`);
      writeFileSync(p, bytesFor(++n, size + (f % 7)));
      chmodSync(p, f % 3 === 0 ? 0o444 : f % 3 === 1 ? 0o644 : 0o755);
    }
  }
  return root;
}

/**
 * A rustc-layout seed: one crate directory, an older and a newer finished
 * session (with locks) and `objects` work products of `size` bytes.
 */
export function makeRustcSeed(root: string, objects: number, size: number): { root: string; session: string } {
  const crate = join(root, 'seedtest-1x2y3z');
  const newer = join(crate, 's-h0abcde-1k2m3n-9zz8yy');
  const older = join(crate, 's-h0abcdd-0a0b0c-7xx6ww');
  for (const s of [older, newer]) {
    mkdirSync(s, { recursive: true });
    writeFileSync(join(s, 'dep-graph.bin'), bytesFor(s.length, 4096));
    writeFileSync(join(s, 'query-cache.bin'), bytesFor(s.length + 1, 4096));
    writeFileSync(join(s, 'work-products.bin'), bytesFor(s.length + 2, 512));
    for (let i = 0; i < objects; i++) writeFileSync(join(s, `seedtest.cgu${i}.rcgu.o`), bytesFor(i + 1000 * s.length, size));
    writeFileSync(`${s.slice(0, s.lastIndexOf('-'))}.lock`, '');
  }
  return { root, session: basename(newer) };
}

/** Staging directories seedwrap left beside DEST. */
export function staging(dest: string): string[] {
  const prefix = `.${basename(dest)}.seedwrap-staging-`;
  if (!isDir(dirname(dest))) return [];
  return readdirSync(dirname(dest)).filter((n) => n.startsWith(prefix));
}

/**
 * DEST is absent, an empty directory, or complete: every file the seed holds
 * (`want`: relative path → sha256) is there with the same bytes, and nothing else.
 * Returns which of the three it was.
 */
export function destState(dest: string, want: Map<string, string> | undefined): 'absent' | 'empty' | 'complete' {
  const st = lstatSync(dest, { throwIfNoEntry: false });
  if (st === undefined) return 'absent';
  expect(st.isDirectory(), `${dest} is a directory`).toBe(true);
  const got = fingerprint(dest);
  if (got.size === 0) return 'empty';
  if (want === undefined) return 'complete';
  const files = new Map([...got].filter(([, e]) => e.type === 'file').map(([k, e]) => [k, e.sha!]));
  expect(Object.fromEntries(files), `${dest} is complete, not partial`).toEqual(Object.fromEntries(want));
  return 'complete';
}

/** relative path → sha256 of the files a mirror-layout seed should produce (symlinks in the seed are not expected here). */
export function filesOf(fp: Map<string, Entry>): Map<string, string> {
  return new Map([...fp].filter(([, e]) => e.type === 'file').map(([k, e]) => [k, e.sha!]));
}

/** The same tree with link counts ignored (a DEST that holds hard links raises them). */
export function withoutLinks(fp: Map<string, Entry>): Map<string, Omit<Entry, 'nlink'>> {
  return new Map([...fp].map(([k, { nlink: _n, ...rest }]) => [k, rest]));
}

export interface Run {
  exitCode: number | undefined;
  signal: string | undefined;
  stderr: string;
  stdout: string;
  timedOut: boolean;
}

export type Mode = 'command' | 'wrapper';

/** `seedwrap seed SRC DEST`, or the wrapper's `--copy-seed SRC DEST --seed-min-mb 0 --exit-early true`. */
export function seedArgs(mode: Mode, src: string, dest: string): string[] {
  return mode === 'command' ? ['seed', src, dest] : ['--copy-seed', src, dest, '--seed-min-mb', '0', '--exit-early', 'true'];
}

export async function runSeed(mode: Mode, src: string, dest: string, env: Record<string, string> = {}, timeout = 60_000): Promise<Run> {
  const r = await execa(NODE, [BUNDLE, ...seedArgs(mode, src, dest)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    extendEnv: false,
    reject: false,
    timeout,
  });
  return { exitCode: r.exitCode, signal: r.signal, stderr: String(r.stderr), stdout: String(r.stdout), timedOut: r.timedOut };
}

/** A failed seed is an error for `seedwrap seed` and a "starting cold" warning (exit 0) for the wrapper. */
export function expectSeedFailure(mode: Mode, r: Run, pattern: RegExp): void {
  expect(r.timedOut).toBe(false);
  if (mode === 'command') {
    expect(r.exitCode, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/^seedwrap seed: /);
  } else {
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^seedwrap: starting cold: --copy-seed /);
  }
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/internal error|at .*\.cjs:\d+/);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
}

export function fresh(prefix: string, base = tmpdir()): string {
  return mkdtempSync(join(base, `seedwrap-fault-${prefix}-`));
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

/** Runs `f` after the current test; the last registered runs first. */
export function onCleanup(f: () => void): void {
  cleanups.push(f);
}

/** A fresh directory, removed however it was left after the current test. */
export function scratch(prefix: string, base?: string): string {
  const dir = fresh(prefix, base);
  onCleanup(() => nuke(dir));
  return dir;
}

/** Removes a tree however it was left (immutable bits, read-only dirs, deep nesting). */
export function nuke(path: string): void {
  spawnSync('rm', ['-rf', path], { stdio: 'ignore' });
  if (lstatSync(path, { throwIfNoEntry: false }) === undefined) return;
  spawnSync('chattr', ['-R', '-i', path], { stdio: 'ignore' });
  spawnSync('rm', ['-rf', path], { stdio: 'ignore' });
}

export function mountTmpfs(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
}

export function umount(dir: string): void {
  spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
}

/** Used bytes and inodes of the filesystem holding `dir`. */
export function usage(dir: string): { bytes: number; inodes: number } {
  const [blocks, bsize, files, ffree, bfree] = execFileSync('stat', ['-f', '-c', '%b %S %c %d %f', dir], { encoding: 'utf8' }).trim().split(' ').map(Number) as [number, number, number, number, number];
  return { bytes: (blocks - bfree) * bsize, inodes: files - ffree };
}

/** Can this test process mount tmpfs (root in a privileged container)? */
export const canMount = ((): boolean => {
  if (!isRoot) return false;
  const dir = mkdtempSync(join(tmpdir(), 'seedwrap-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    umount(dir);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

/** Does chattr +i work on the filesystem of `base` (ext4 yes, tmpfs and overlayfs often not)? */
export function canChattr(base = tmpdir()): boolean {
  if (!isRoot) return false;
  const dir = mkdtempSync(join(base, 'seedwrap-chattr-probe-'));
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function isDir(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
