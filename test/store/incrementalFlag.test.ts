import { describe, expect, it } from 'vitest';
import { findIncremental, withIncrementalDir, withoutIncremental } from '../../src/store/incrementalFlag.ts';
import { locateStore } from '../../src/store/sandboxPaths.ts';
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

describe('where the store really is', () => {
  const ob = '/ob';
  const sandbox = `${ob}/sandbox/linux-sandbox/7/execroot/ws`;
  const stable = { path: `${ob}/sandbox/stable/execroot/ws`, hidden: `${ob}/sandbox` } as StableCwd;

  it('maps ${output_base}/X of a sandbox (with or without the stable cwd) to <ob>/X', () => {
    expect(locateStore(`${ob}/sandbox/stable/rustc-incremental`, sandbox, stable, `${ob}/sandbox/stable`)).toEqual({
      kind: 'store', real: `${ob}/rustc-incremental`, rustcDir: `${ob}/sandbox/stable/rustc-incremental`,
      bind: { real: `${ob}/rustc-incremental`, at: `${ob}/sandbox/stable/rustc-incremental` },
    });
    expect(locateStore(`${ob}/sandbox/linux-sandbox/7/rustc-incremental`, sandbox, undefined, `${ob}/sandbox/linux-sandbox/7`)).toEqual({
      kind: 'store', real: `${ob}/rustc-incremental`, rustcDir: `${ob}/rustc-incremental`,
    });
    // A sandboxed worker's ${output_base} is <ob>/bazel-workers.
    expect(locateStore(`${ob}/bazel-workers/rustc-incremental`, `${ob}/bazel-workers/worker-3-Rustc/ws`, undefined, `${ob}/bazel-workers`)).toMatchObject({ real: `${ob}/rustc-incremental` });
  });

  it('leaves the action\'s own directories alone and takes other absolute paths as they are', () => {
    expect(locateStore('bazel-out/k8-fastbuild/bin/incr', sandbox, undefined, `${ob}/sandbox/linux-sandbox/7`)).toEqual({ kind: 'action' });
    expect(locateStore(`${sandbox}/incr`, sandbox, undefined, `${ob}/sandbox/linux-sandbox/7`)).toEqual({ kind: 'action' });
    expect(locateStore('/var/tmp/store', sandbox, stable, `${ob}/sandbox/stable`)).toEqual({ kind: 'store', real: '/var/tmp/store', rustcDir: '/var/tmp/store' });
    // Local: ${output_base} is already the real one.
    expect(locateStore(`${ob}/rustc-incremental`, `${ob}/execroot/ws`, undefined, ob)).toEqual({ kind: 'store', real: `${ob}/rustc-incremental`, rustcDir: `${ob}/rustc-incremental` });
    // Local (and the non-sandboxed worker) with an external repository: external/ is a
    // real directory in the execroot, so ${output_base} is the execroot itself (as upstream
    // computes it); the store is still <ob>/rustc-incremental, not a directory Bazel clears.
    expect(locateStore(`${ob}/execroot/ws/rustc-incremental`, `${ob}/execroot/ws`, undefined, `${ob}/execroot/ws`)).toEqual({ kind: 'store', real: `${ob}/rustc-incremental`, rustcDir: `${ob}/rustc-incremental` });
  });
});
