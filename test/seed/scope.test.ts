/**
 * Issue 10, item 1: a seed's symlinks are followed only into the seed itself
 * or into the real execroot's output tree of the action's output base. A
 * "secret" file in the test's own temp dir, outside the seed, stands in for
 * /etc/shadow: it must keep one link and its mode, and DEST must not have it.
 */
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../src/seed/index.ts';
import { isWithin, outputTreeOf } from '../../src/seed/scope.ts';
import { BUNDLE, NODE } from '../faults/helpers.ts';
import { removeTree, tempDir } from './helpers.ts';

let root: string;
let secret: string;
beforeAll(() => {
  root = tempDir('scope');
  secret = join(root, 'secret');
  writeFileSync(secret, 'root:$6$hash:19000:0:99999:7:::\n', { mode: 0o640 });
});
afterAll(() => removeTree(root));

function expectSecretUntouched(): void {
  const st = statSync(secret);
  expect(st.nlink).toBe(1);
  expect(st.mode & 0o7777).toBe(0o640);
}

async function seedJson(src: string, dest: string, cwd = root, env: Record<string, string> = {}) {
  const r = await execa(NODE, [BUNDLE, 'seed', '--json', src, dest], { cwd, reject: false, timeout: 30_000, env });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  return { report: JSON.parse(String(r.stdout)) as { files: number; linked: number; copied: number; skipped: Array<{ path: string; reason: string }> }, stderr: String(r.stderr) };
}

describe('a symlink out of the seed', () => {
  it("the issue's reproduction: a kept session's x.o -> secret is skipped and reported, not copied", async () => {
    const s = join(root, 'repro/s');
    mkdirSync(join(s, 'c-1ab/s-a-b-c'), { recursive: true });
    writeFileSync(join(s, 'c-1ab/s-a-b.lock'), '');
    writeFileSync(join(s, 'c-1ab/s-a-b-c/dep-graph.bin'), 'graph');
    symlinkSync(secret, join(s, 'c-1ab/s-a-b-c/x.o'));
    const d = join(root, 'repro/d');
    const { report } = await seedJson(s, d);
    expect(existsSync(join(d, 'c-1ab/s-a-b-c/x.o'))).toBe(false);
    expect(readFileSync(join(d, 'c-1ab/s-a-b-c/dep-graph.bin'), 'utf8')).toBe('graph');
    expect(report.skipped).toContainEqual({ path: join(s, 'c-1ab/s-a-b-c/x.o'), reason: `symlink to ${secret}, outside the seed and the execroot's output tree` });
    expectSecretUntouched();
  });

  it('mirror layout: absolute, relative, chained and directory symlinks out of the seed are all skipped; links inside are followed', async () => {
    const s = join(root, 'mirror/s');
    mkdirSync(join(s, 'in/deep'), { recursive: true });
    mkdirSync(join(root, 'mirror/outdir'));
    writeFileSync(join(root, 'mirror/outdir/o'), 'outside');
    writeFileSync(join(s, 'in/deep/f'), 'inside');
    symlinkSync(secret, join(s, 'abs'));
    symlinkSync('../../secret', join(s, 'rel'));
    symlinkSync('abs', join(s, 'chain')); // in the seed, but it ends outside
    symlinkSync(join(root, 'mirror/outdir'), join(s, 'dir'));
    symlinkSync(root, join(s, 'up')); // the seed's own ancestor
    symlinkSync('in/deep/f', join(s, 'to-inside'));
    symlinkSync('in/deep', join(s, 'dir-inside'));
    const d = join(root, 'mirror/d');
    const { report, stderr } = await seedJson(s, d, root, { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' });
    expect(report.skipped.map((e) => e.path.slice(s.length + 1)).sort()).toEqual(['abs', 'chain', 'dir', 'rel', 'up']);
    for (const name of ['abs', 'chain', 'dir', 'rel', 'up']) {
      expect(existsSync(join(d, name))).toBe(false);
      expect(stderr).toContain(`skipped ${join(s, name)}: symlink to `);
    }
    expect(statSync(join(d, 'to-inside')).ino).toBe(statSync(join(s, 'in/deep/f')).ino);
    expect(readFileSync(join(d, 'dir-inside/f'), 'utf8')).toBe('inside');
    expect(report.files).toBe(3);
    expectSecretUntouched();
    expect(statSync(join(root, 'mirror/outdir/o')).nlink).toBe(1);
  });
});

describe("symlinks into the execroot's output tree (a sandbox stages inputs that way)", () => {
  /** `<ob>/execroot/ws/bazel-out/k8/bin/seed` with one file, and a sandbox copy of it whose file is a symlink there. */
  function outputBase(name: string): { ob: string; real: string; staged: string } {
    const ob = join(root, name);
    const real = join(ob, 'execroot/ws/bazel-out/k8/bin/seed');
    mkdirSync(real, { recursive: true });
    writeFileSync(join(real, 'f'), 'f');
    const staged = join(ob, 'sandbox/linux-sandbox/7/execroot/ws/bazel-out/k8/bin/seed');
    mkdirSync(staged, { recursive: true });
    symlinkSync(join(real, 'f'), join(staged, 'f'));
    return { ob, real, staged };
  }

  it.each([
    ['a sandboxed action', 'sandbox/linux-sandbox/7/execroot/ws'],
    ['a sandboxed worker', 'bazel-workers/worker-3-Rustc/ws'],
    ['an unsandboxed action', 'execroot/ws'],
  ])('are followed for %s of the same output base', async (what, cwdRel) => {
    const { ob, real, staged } = outputBase(`ob-${cwdRel.replace(/\W/g, '_')}`);
    const cwd = join(ob, cwdRel);
    mkdirSync(cwd, { recursive: true });
    const dest = join(ob, 'dest');
    const report = await seed(staged, dest, { minBytes: 0, writableWorkProducts: false, cwd });
    expect(report.skipped).toEqual([]);
    expect(statSync(join(dest, 'f')).ino).toBe(statSync(join(real, 'f')).ino);
  });

  it("are skipped for another output base's tree, outside bazel-out, or from a cwd Bazel does not make", async () => {
    const mine = outputBase('ob-mine');
    const other = outputBase('ob-other');
    mkdirSync(join(mine.ob, 'execroot/ws/external'), { recursive: true });
    writeFileSync(join(mine.ob, 'execroot/ws/external/e'), 'e');
    mkdirSync(join(mine.ob, 'execroot/ws/bazel-out-evil'));
    writeFileSync(join(mine.ob, 'execroot/ws/bazel-out-evil/p'), 'p');
    symlinkSync(join(other.real, 'f'), join(mine.staged, 'other'));
    symlinkSync(join(mine.ob, 'execroot/ws/external/e'), join(mine.staged, 'external'));
    symlinkSync(join(mine.ob, 'execroot/ws/bazel-out-evil/p'), join(mine.staged, 'prefix'));
    const cwd = join(mine.ob, 'sandbox/linux-sandbox/7/execroot/ws');
    const report = await seed(mine.staged, join(mine.ob, 'dest'), { minBytes: 0, writableWorkProducts: false, cwd });
    expect(report.skipped.map((e) => e.path.slice(mine.staged.length + 1)).sort()).toEqual(['external', 'other', 'prefix']);
    expect(report.files).toBe(1);
    // The same staged seed seeded from a shell in the temp dir: nothing outside the seed is followed.
    const fromShell = await seed(mine.staged, join(mine.ob, 'dest2'), { minBytes: 0, writableWorkProducts: false, cwd: root });
    expect(fromShell.files).toBe(0);
    expect(statSync(join(other.real, 'f')).nlink).toBe(1);
  });

  it("outputTreeOf reads the output base off each real cwd shape (an output user root named …/sandbox/… included); isWithin is not fooled by a shared prefix", () => {
    const ob = join(root, 'tree-shapes/ob');
    const dirs = ['execroot/ws', 'sandbox/processwrapper-sandbox/12/execroot/ws', 'sandbox/linux-sandbox/3/execroot/ws', 'bazel-workers/worker-2-RustcMetadata/ws'];
    for (const d of dirs) mkdirSync(join(ob, d), { recursive: true });
    for (const d of dirs) expect(outputTreeOf(join(ob, d))).toBe(join(ob, 'execroot/ws/bazel-out'));
    expect(outputTreeOf(root)).toBeUndefined();
    // The shape alone is not enough: no real <ob>/execroot/<ws> beside it, no output tree.
    mkdirSync(join(root, 'tree-shapes/bare/sandbox/linux-sandbox/1/execroot/ws'), { recursive: true });
    expect(outputTreeOf(join(root, 'tree-shapes/bare/sandbox/linux-sandbox/1/execroot/ws'))).toBeUndefined();
    // --output_user_root=<x>/sandbox/u: the real execroot (Bazel's marker beside it) keeps its own tree.
    const userRoot = join(root, 'tree-shapes/sandbox/u/abc123');
    mkdirSync(join(userRoot, 'execroot/ws'), { recursive: true });
    writeFileSync(join(userRoot, 'execroot/DO_NOT_BUILD_HERE'), '/home/me/ws');
    // Even where <x> itself has an execroot/ws that would make it look like a sandbox's output base.
    mkdirSync(join(root, 'tree-shapes/execroot/ws'), { recursive: true });
    expect(outputTreeOf(join(userRoot, 'execroot/ws'))).toBe(join(userRoot, 'execroot/ws/bazel-out'));
    expect(isWithin('/a/bazel-out-evil/p', ['/a/bazel-out'])).toBe(false);
    expect(isWithin('/a/bazel-out/p', ['/a/bazel-out'])).toBe(true);
    expect(isWithin('/a/bazel-out', ['/a/bazel-out'])).toBe(true);
  });
});
