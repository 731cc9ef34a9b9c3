import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bazelLayout } from '../../src/bazelLayout.ts';
import { planStableCwd } from '../../src/stableCwd.ts';
import { tempDir } from '../helpers/tmp.ts';
import { DUMP, NODE, runMain } from '../helpers/wrapper.ts';

const RUSTC = process.env.RUSTC ?? join(process.env.HOME ?? '/root', '.cargo/bin/rustc');

/** A directory shaped like Bazel's `<output_base>/sandbox/<strategy>/<N>/execroot/<ws>`. */
function sandbox(outputBase: string, n: number): string {
  const dir = join(outputBase, 'sandbox', 'linux-sandbox', String(n), 'execroot', 'ws');
  mkdirSync(dir, { recursive: true });
  // Bazel's real execroot, beside every sandbox: bazelLayout.ts requires it.
  mkdirSync(join(outputBase, 'execroot', 'ws'), { recursive: true });
  return dir;
}

// Needs a mount namespace: as root (CI) or with unprivileged user namespaces.
const canNamespace = planStableCwd({ kind: 'sandbox', outputBase: '/x', workspace: 'ws', execroot: '/x/execroot/ws', bazelOut: '/x/execroot/ws/bazel-out', actionDirs: '/x/sandbox' }).kind === 'stable';

describe('--stable-cwd', () => {
  it('outside a sandbox changes nothing', async () => {
    const dir = tempDir();
    const r = await runMain(['--stable-cwd', 'true', '--subst', 'pwd=${pwd}', '--', NODE, DUMP, '${pwd}'], { cwd: dir });
    const dump = JSON.parse(r.stdout.toString()) as { argv: string[]; cwd: string };
    expect(dump.cwd).toBe(dir);
    expect(dump.argv).toEqual([dir]);
  });

  it.runIf(canNamespace)('inside a sandbox the child runs at <output_base>/sandbox/stable/execroot/<ws>, and writes land in the sandbox', async () => {
    const base = tempDir();
    const stable = join(base, 'sandbox', 'stable', 'execroot', 'ws');
    for (const n of [3, 4]) {
      const dir = sandbox(base, n);
      writeFileSync(join(dir, 'input.txt'), `input ${n}`);
      const r = await runMain(['--stable-cwd', 'true', '--subst', 'pwd=${pwd}', '--out-dir', 'out', '--stdout-file', 'dump.json', '--',
        '/bin/sh', '-c', `cat input.txt > written.txt; exec "$0" "$@"`, NODE, DUMP, '${pwd}'], { cwd: dir });
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
      const dump = JSON.parse(readFileSync(join(dir, 'dump.json'), 'utf8')) as { argv: string[]; cwd: string; env: Record<string, string> };
      expect(dump.cwd).toBe(stable);
      expect(dump.argv).toEqual([stable]);
      expect(dump.env.OUT_DIR).toBe(join(stable, 'out'));
      // The child saw this sandbox's files and wrote into this sandbox.
      expect(readFileSync(join(dir, 'written.txt'), 'utf8')).toBe(`input ${n}`);
    }
  });

  it.runIf(canNamespace)('a sandboxed worker (<output_base>/bazel-workers/worker-N-<Mnemonic>/<ws>) runs the child at <output_base>/bazel-workers/stable/execroot/<ws>', async () => {
    const base = tempDir();
    const stable = join(base, 'bazel-workers', 'stable', 'execroot', 'ws');
    mkdirSync(join(base, 'execroot', 'ws'), { recursive: true });
    for (const n of [1, 2]) {
      const dir = join(base, 'bazel-workers', `worker-${n}-Rustc`, 'ws');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'input.txt'), `worker ${n}`);
      const r = await runMain(['--stable-cwd', 'true', '--subst', 'pwd=${pwd}', '--stdout-file', 'dump.json', '--',
        '/bin/sh', '-c', `cat input.txt > written.txt; exec "$0" "$@"`, NODE, DUMP, '${pwd}'], { cwd: dir });
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
      const dump = JSON.parse(readFileSync(join(dir, 'dump.json'), 'utf8')) as { argv: string[]; cwd: string };
      expect(dump.cwd).toBe(stable);
      expect(dump.argv).toEqual([stable]);
      expect(readFileSync(join(dir, 'written.txt'), 'utf8')).toBe(`worker ${n}`);
    }
    // A non-sandboxed worker already runs in the stable execroot: unchanged.
    expect(planStableCwd(bazelLayout(join(base, 'execroot', 'ws'))).kind).toBe('unchanged');
    mkdirSync(join(base, 'bazel-workers', 'multiplex-worker-1-Rustc', 'ws'), { recursive: true });
    expect(planStableCwd(bazelLayout(join(base, 'bazel-workers', 'multiplex-worker-1-Rustc', 'ws'))).kind).toBe('unchanged');
  });

  it.runIf(canNamespace)('real rustc reuses a session made in another sandbox only from the stable cwd: on by itself for -Cincremental, off with --stable-cwd false', async () => {
    const base = tempDir();
    const src = Array.from({ length: 50 }, (_, i) => `pub fn f${i}(x: u32) -> u32 { x.wrapping_mul(${i + 1}) }`).join('\n') + '\n';
    const compile = (dir: string, flag: string[], assertLoaded: boolean) =>
      runMain([
        ...flag,
        '--subst', 'pwd=${pwd}', '--rustc-output-format', 'rendered', '--',
        RUSTC, '--crate-type=rlib', '--crate-name=lib', 'lib.rs', '--edition=2021', '--error-format=json', '--json=artifacts',
        '-Cincremental=bazel-out/incr', '--out-dir=out', '--remap-path-prefix=${pwd}=',
        ...(assertLoaded ? ['-Zassert-incr-state=loaded'] : []),
      ], { cwd: dir, env: { RUSTC_BOOTSTRAP: '1', HOME: process.env.HOME ?? '/root' } });

    const modes: Array<{ flag: string[]; reuse: boolean }> = [
      { flag: ['--stable-cwd', 'false'], reuse: false },
      { flag: ['--stable-cwd', 'true'], reuse: true },
      { flag: [], reuse: true },
    ];
    for (const [i, { flag, reuse }] of modes.entries()) {
      const first = sandbox(base, 10 * i + 10);
      writeFileSync(join(first, 'lib.rs'), src);
      mkdirSync(join(first, 'out'));
      const cold = await compile(first, flag, false);
      expect(cold.stderr.toString()).toBe('');
      expect(cold.exitCode).toBe(0);
      // The next action runs in another sandbox, seeded with the first one's tree.
      const second = sandbox(base, 10 * i + 11);
      writeFileSync(join(second, 'lib.rs'), src + '// an edit\n');
      mkdirSync(join(second, 'out'));
      cpSync(join(first, 'bazel-out', 'incr'), join(second, 'bazel-out', 'incr'), { recursive: true });
      const rebuild = await compile(second, flag, true);
      if (reuse) {
        expect(rebuild.stderr.toString()).toBe('');
        expect(rebuild.exitCode).toBe(0);
      } else {
        // rustc discards the session: the sandbox path is in its command-line hash.
        expect(rebuild.exitCode).not.toBe(0);
        expect(rebuild.stderr.toString()).toMatch(/existing incremental cache directory should be successfully loaded/);
      }
    }
  });
});
