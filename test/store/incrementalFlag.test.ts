import { mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findIncremental, withIncrementalDir, withoutIncremental } from '../../src/store/incrementalFlag.ts';
import { locateStore } from '../../src/store/sandboxPaths.ts';
import { bazelLayout } from '../../src/bazelLayout.ts';
import { tempDir } from '../helpers/tmp.ts';
import type { StableCwd } from '../../src/stableCwd.ts';

describe('-C incremental in every spelling rustc accepts', () => {
  const spellings: Array<[string[], string[]]> = [
    [['-Cincremental=/s'], ['-Cincremental=/n']],
    [['-C', 'incremental=/s'], ['-C', 'incremental=/n']],
    [['--codegen=incremental=/s'], ['--codegen=incremental=/n']],
    [['--codegen', 'incremental=/s'], ['--codegen', 'incremental=/n']],
  ];
  it.each(spellings)('%j is found, rewritten in its own spelling, and dropped', (flag, rewritten) => {
    const args = ['rustc', 'lib.rs', '-C', 'opt-level=0', ...flag, '--out-dir=o'];
    const found = findIncremental(args)!;
    expect(found.dir).toBe('/s');
    expect(withIncrementalDir(args, found, '/n')).toEqual(['rustc', 'lib.rs', '-C', 'opt-level=0', ...rewritten, '--out-dir=o']);
    expect(withoutIncremental(args)).toEqual(['rustc', 'lib.rs', '-C', 'opt-level=0', '--out-dir=o']);
  });

  it('takes the last one, as rustc does, and ignores look-alikes', () => {
    expect(findIncremental(['-Cincremental=/a', '-C', 'incremental=/b'])!.dir).toBe('/b');
    expect(findIncremental(['-C', 'opt-level=0', '-Cincrementalx=/a', '--codegen=metadata=x'])).toBeUndefined();
  });
});

/** Makes `rel` under `root` (real directories) and returns its path. */
function made(root: string, rel: string): string {
  const dir = join(root, rel);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('where the store really is: an allow-list on the validated layout', () => {
  const stableAt = (ob: string) => ({ path: `${ob}/sandbox/stable/execroot/ws`, hidden: `${ob}/sandbox` }) as StableCwd;
  function sandbox(opts: { external?: 'dir' | 'none' } = {}) {
    const ob = tempDir();
    made(ob, 'execroot/ws');
    const cwd = made(ob, 'sandbox/linux-sandbox/7/execroot/ws');
    if (opts.external !== 'none') made(cwd, 'external/local_config_cc');
    return { ob, cwd, layout: bazelLayout(cwd), stable: stableAt(ob) };
  }

  it('${output_base}/X and ${pwd}/../../X of a sandbox, without and with a real external/, map to <ob>/X (bound at the path rustc was given)', () => {
    for (const external of ['none', 'dir'] as const) {
      const { ob, cwd, layout, stable } = sandbox({ external });
      // Upstream's ${output_base} seen from the stable cwd: <ob>/sandbox/stable, or the execroot itself with a real external/.
      const upstream = external === 'dir' ? stable.path : `${ob}/sandbox/stable`;
      for (const dir of [`${upstream}/rustc-incremental`, `${stable.path}/../../rustc-incremental`]) {
        const seen = resolve(dir);
        expect(locateStore(dir, cwd, layout, stable), `${external} ${dir}`).toEqual({ kind: 'store', real: `${ob}/rustc-incremental`, rustcDir: seen, bind: { real: `${ob}/rustc-incremental`, at: seen }, pinFrom: ob });
      }
      // Without a namespace the child is given the real directory.
      expect(locateStore(`${ob}/sandbox/linux-sandbox/7/rustc-incremental`, cwd, layout, undefined)).toEqual({ kind: 'store', real: `${ob}/rustc-incremental`, rustcDir: `${ob}/rustc-incremental` });
    }
  });

  it('a sandboxed worker\'s ${output_base} (<ob>/bazel-workers) and a local execroot map to the same <ob>/X', () => {
    const ob = tempDir();
    const execroot = made(ob, 'execroot/ws');
    const worker = made(ob, 'bazel-workers/worker-3-Rustc/ws');
    expect(locateStore(`${ob}/bazel-workers/rustc-incremental`, worker, bazelLayout(worker), undefined)).toMatchObject({ kind: 'store', real: `${ob}/rustc-incremental` });
    // Local: ${output_base} is the real one, or the execroot itself once external/ is a real directory.
    expect(locateStore(`${ob}/rustc-incremental`, execroot, bazelLayout(execroot), undefined)).toEqual({ kind: 'store', real: `${ob}/rustc-incremental`, rustcDir: `${ob}/rustc-incremental` });
    made(execroot, 'external');
    expect(locateStore(`${execroot}/rustc-incremental`, execroot, bazelLayout(execroot), undefined)).toEqual({ kind: 'store', real: `${ob}/rustc-incremental`, rustcDir: `${ob}/rustc-incremental` });
  });

  it('refuses, never binds, what Bazel owns or what leads out: execroot, sandbox, the base itself, "..", a symlinked store, an input of the execroot', () => {
    for (const external of ['none', 'dir'] as const) {
      const { ob, cwd, layout, stable } = sandbox({ external });
      const upstream = external === 'dir' ? stable.path : `${ob}/sandbox/stable`;
      for (const x of ['execroot', 'execroot/other', 'sandbox/x', 'bazel-workers', 'external/x', 'action_cache', 'server', 'install', 'java.log.host', 'DO_NOT_BUILD_HERE', '_tmp']) {
        expect(locateStore(`${upstream}/${x}`, cwd, layout, stable), `${external} ${x}`).toMatchObject({ kind: 'cold', warn: true });
      }
      // The execroot itself: the action's own throwaway directory (without external/), or Bazel's (with it); never a store.
      expect(locateStore(`${upstream}/execroot/ws`, cwd, layout, stable)).toMatchObject(external === 'none' ? { kind: 'action', warning: expect.stringMatching(/thrown away/) } : { kind: 'cold', warn: true });
      expect(locateStore(`${stable.path}/../..`, cwd, layout, stable)).toMatchObject({ kind: 'cold', warn: true, reason: expect.stringMatching(/output base itself/) });
      expect(locateStore(`${ob}/execroot`, cwd, layout, stable)).toMatchObject({ kind: 'cold', warn: true });
      expect(locateStore(`${ob}/sandbox/linux-sandbox/7/execroot`, cwd, layout, stable)).toMatchObject({ kind: 'cold', warn: true });
      // ".." out of the output base, to a directory of nobody's.
      expect(locateStore(`${upstream}/../../../../../elsewhere`, cwd, layout, stable)).toMatchObject({ kind: 'cold', warn: true });
      // An ancestor of the execroot.
      expect(locateStore(dirname(ob), cwd, layout, stable)).toMatchObject({ kind: 'cold', warn: true });
    }
    // A store that is a symlink (planted by an earlier action) is refused.
    const { ob, cwd, layout, stable } = sandbox();
    const elsewhere = tempDir();
    symlinkSync(elsewhere, join(ob, 'rustc-incremental'));
    expect(locateStore(`${ob}/sandbox/stable/rustc-incremental`, cwd, layout, stable)).toMatchObject({ kind: 'cold', warn: true, reason: expect.stringMatching(/symbolic link/) });
    // With a real external/, ${output_base} is the execroot: its inputs are never bound over.
    const s2 = sandbox({ external: 'dir' });
    made(s2.cwd, 'app');
    expect(locateStore(`${s2.stable.path}/app`, s2.cwd, s2.layout, s2.stable)).toMatchObject({ kind: 'cold', warn: true, reason: expect.stringMatching(/inputs/) });
  });

  it('a planted external symlink in a sandbox cwd never moves the store: under where it leads is refused', () => {
    const ob = tempDir();
    const elsewhere = tempDir();
    made(ob, 'execroot/ws');
    const cwd = made(ob, 'sandbox/linux-sandbox/7/execroot/ws');
    made(elsewhere, 'external');
    symlinkSync(join(elsewhere, 'external'), join(cwd, 'external'));
    expect(locateStore(`${elsewhere}/rustc-incremental`, cwd, bazelLayout(cwd), stableAt(ob))).toMatchObject({ kind: 'cold', warn: true, reason: expect.stringMatching(/external/) });
  });

  it('the action\'s own directories: bazel-out/ silently, the sandbox\'s throwaway area with a warning; a literal ${…} is refused', () => {
    const { ob, cwd, layout, stable } = sandbox({ external: 'none' });
    expect(locateStore('bazel-out/k8-fastbuild/bin/incr', cwd, layout, stable)).toEqual({ kind: 'action' });
    expect(locateStore(`${stable.path}/bazel-out/x/incr`, cwd, layout, stable)).toEqual({ kind: 'action' });
    expect(locateStore('incr', cwd, layout, stable)).toEqual({ kind: 'action', warning: expect.stringMatching(/thrown away.*\$\{pwd\}\/\.\.\/\.\.\/rustc-incremental.*--sandbox_writable_path/) });
    expect(locateStore(`${stable.path}/incr`, cwd, layout, stable)).toMatchObject({ kind: 'action', warning: expect.stringMatching(/thrown away/) });
    expect(locateStore('${output_base}/rustc-incremental', cwd, layout, stable)).toMatchObject({ kind: 'cold', warn: true, reason: expect.stringMatching(/"\$\{output_base\}" was not substituted.*\$\{pwd\}\/\.\.\/\.\.\/rustc-incremental/) });
    // Local: the execroot's own directory, no warning (not a sandbox).
    const execroot = join(ob, 'execroot/ws');
    expect(locateStore('incr', execroot, bazelLayout(execroot), undefined)).toEqual({ kind: 'action', warning: undefined });
    // An absolute directory of the user's own, outside the output base: a store as it is.
    const mine = tempDir();
    expect(locateStore(`${mine}/store`, cwd, layout, stable)).toEqual({ kind: 'store', real: `${mine}/store`, rustcDir: `${mine}/store` });
  });

  it('an unknown layout (a remote executor\'s <build>/<id>/root): every directory goes cold, quietly (no executor store configured)', () => {
    const build = tempDir();
    const root = made(build, '7f3a/root');
    const layout = bazelLayout(root);
    for (const dir of [`${build}/rustc-incremental`, `${root}/rustc-incremental`, 'rustc-incremental', build, '/']) {
      expect(locateStore(dir, root, layout, undefined), dir).toMatchObject({ kind: 'cold', warn: false });
    }
    made(root, 'external');
    expect(locateStore(`${root}/rustc-incremental`, root, layout, undefined)).toMatchObject({ kind: 'cold', warn: false });
    expect(locateStore('bazel-out/k8/bin/incr', root, layout, undefined)).toEqual({ kind: 'action' });
    // Anywhere else too: without a Bazel shape (and no executor store) the compile is cold on purpose (issue 16).
    const mine = tempDir();
    expect(locateStore(`${mine}/store`, root, layout, undefined)).toMatchObject({ kind: 'cold', warn: false });
    // `${pwd}/../..` from a cwd one level below / is / itself: never a store made at the root.
    expect(locateStore('/rustc-incremental', mine, bazelLayout(mine), undefined)).toMatchObject({ kind: 'cold', warn: false });
  });
});
