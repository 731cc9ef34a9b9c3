import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bazelLayout, upstreamOutputBase } from '../../src/bazelLayout.ts';
import { tempDir } from '../helpers/tmp.ts';

/** Makes `rel` under `root` (real directories) and returns its path. */
function made(root: string, rel: string): string {
  const dir = join(root, rel);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('bazelLayout: where an action stands, from the real file system', () => {
  it('a local execroot, a sandbox (with Bazel\'s real <ob>/execroot/<ws> beside it) and a sandboxed worker', () => {
    const ob = tempDir();
    const execroot = made(ob, 'execroot/ws');
    expect(bazelLayout(execroot)).toEqual({ kind: 'execroot', outputBase: ob, workspace: 'ws', execroot, bazelOut: `${execroot}/bazel-out`, actionDirs: undefined, strategy: undefined });
    const sandbox = made(ob, 'sandbox/linux-sandbox/7/execroot/ws');
    expect(bazelLayout(sandbox)).toEqual({ kind: 'sandbox', outputBase: ob, workspace: 'ws', execroot, bazelOut: `${execroot}/bazel-out`, actionDirs: `${ob}/sandbox`, strategy: 'linux-sandbox' });
    const worker = made(ob, 'bazel-workers/worker-3-Rustc/ws');
    expect(bazelLayout(worker)).toMatchObject({ kind: 'worker', outputBase: ob, workspace: 'ws', actionDirs: `${ob}/bazel-workers`, strategy: 'worker-3-Rustc' });
  });

  it('a sandbox-shaped directory whose output base has no real execroot/<ws> is not a sandbox', () => {
    const ob = tempDir();
    expect(bazelLayout(made(ob, 'sandbox/linux-sandbox/7/execroot/ws'))).toEqual({ kind: 'unknown' });
    expect(bazelLayout(made(ob, 'bazel-workers/worker-1-Rustc/ws'))).toEqual({ kind: 'unknown' });
    // Another workspace's execroot is not this one's.
    made(ob, 'execroot/other');
    expect(bazelLayout(join(ob, 'sandbox/linux-sandbox/7/execroot/ws'))).toEqual({ kind: 'unknown' });
  });

  it('an output user root named …/sandbox/…: the real execroot is taken for what it is, never for a sandbox', () => {
    // --output_user_root=<tmp>/sandbox/a gives the output base <tmp>/sandbox/a/<md5>;
    // its execroot has the sandbox shape with <tmp> as the "output base".
    const tmp = tempDir();
    const ob = made(tmp, 'sandbox/a/0123abcd');
    const execroot = made(ob, 'execroot/ws');
    // Bazel writes this marker into every output base's execroot/ (listed on a real one).
    writeFileSync(join(ob, 'execroot', 'DO_NOT_BUILD_HERE'), '/home/me/ws');
    // Even when <tmp> happens to look like an output base with the same workspace.
    made(tmp, 'execroot/ws');
    expect(bazelLayout(execroot)).toMatchObject({ kind: 'execroot', outputBase: ob, bazelOut: `${execroot}/bazel-out` });
  });

  it('planted symlinks do not make a layout: a sandbox directory, an execroot or the real execroot that is a link', () => {
    const ob = tempDir();
    const elsewhere = tempDir();
    made(ob, 'execroot/ws');
    // <ob>/sandbox/linux-sandbox/7 is a symlink to a directory that has the rest of the shape.
    made(elsewhere, 'execroot/ws');
    made(ob, 'sandbox/linux-sandbox');
    symlinkSync(elsewhere, join(ob, 'sandbox/linux-sandbox/7'));
    expect(bazelLayout(join(ob, 'sandbox/linux-sandbox/7/execroot/ws'))).toEqual({ kind: 'unknown' });
    // The sandbox is real but the output base's execroot/<ws> is a link.
    const ob2 = tempDir();
    made(ob2, 'execroot');
    symlinkSync(join(elsewhere, 'execroot/ws'), join(ob2, 'execroot/ws'));
    expect(bazelLayout(made(ob2, 'sandbox/processwrapper-sandbox/2/execroot/ws'))).toEqual({ kind: 'unknown' });
    expect(bazelLayout(join(ob2, 'execroot/ws'))).toEqual({ kind: 'unknown' });
  });

  it('a planted external symlink in a sandbox cwd moves upstream\'s ${output_base}, never the layout\'s', () => {
    const ob = tempDir();
    const elsewhere = tempDir();
    made(ob, 'execroot/ws');
    const sandbox = made(ob, 'sandbox/linux-sandbox/7/execroot/ws');
    made(elsewhere, 'external');
    symlinkSync(join(elsewhere, 'external'), join(sandbox, 'external'));
    expect(upstreamOutputBase(sandbox)).toBe(elsewhere);
    expect(bazelLayout(sandbox)).toMatchObject({ kind: 'sandbox', outputBase: ob });
  });

  it('a remote executor\'s <build>/<id>/root, a shell\'s directory and a missing one are unknown', () => {
    const build = tempDir();
    expect(bazelLayout(made(build, '7f3a/root'))).toEqual({ kind: 'unknown' });
    expect(bazelLayout(build)).toEqual({ kind: 'unknown' });
    expect(bazelLayout(join(build, 'gone/execroot/ws'))).toEqual({ kind: 'unknown' });
    // A path through a file (ENOTDIR, not ENOENT) is a question answered, not an error.
    writeFileSync(join(build, 'execroot'), '');
    expect(bazelLayout(join(build, 'execroot/ws'))).toEqual({ kind: 'unknown' });
    expect(bazelLayout(made(build, 'sandbox/linux-sandbox/1/execroot/ws'))).toEqual({ kind: 'unknown' });
  });

  it('costs a few lstat calls: measured per call for each kind', () => {
    const ob = tempDir();
    made(ob, 'execroot/ws');
    const cwds = { execroot: join(ob, 'execroot/ws'), sandbox: made(ob, 'sandbox/linux-sandbox/7/execroot/ws'), worker: made(ob, 'bazel-workers/worker-1-Rustc/ws'), unknown: made(ob, 'build/1/root') };
    const figures: Record<string, string> = {};
    for (const [kind, cwd] of Object.entries(cwds)) {
      expect(bazelLayout(cwd).kind).toBe(kind);
      const n = 5_000;
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) bazelLayout(cwd);
      const us = Number(process.hrtime.bigint() - start) / 1000 / n;
      figures[kind] = `${us.toFixed(1)} µs`;
      // A generous bound on a loaded shared machine; the figure is printed.
      expect(us).toBeLessThan(500);
    }
    console.log(`bazelLayout per call: ${JSON.stringify(figures)}`);
  });
});
