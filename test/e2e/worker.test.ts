// End to end: examples/bazel with --//rust:worker=true, its Rustc and
// RustcMetadata actions run by seedwrap's persistent worker (Bazel 4.2.3,
// rustc 1.95). A cold build succeeds and the binary runs; after a comment edit
// every main-workspace Rustc action re-runs in the worker with
// -Zassert-incr-state=loaded, i.e. rustc loaded the seeded session (a
// non-sandboxed worker runs in the real execroot, a stable cwd).
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BazelWorkspace, REPO, RUSTC, crateOf, executed, type BuildResult, type Spawn } from './bazelHarness.ts';

const WRAPPER = process.env.SEEDWRAP_E2E_WRAPPER ?? join(REPO, 'dist/seedwrap.cjs');
const CRATE_SOURCES = ['memchr-2.5.0', 'aho-corasick-0.7.19', 'regex-syntax-0.6.27', 'regex-1.7.1', 'itoa-1.0.1'].map(
  (c) => `/usr/share/cargo/registry/${c}/src`,
);
const haveTools = spawnSync('bazel', ['--version']).status === 0 && existsSync(RUSTC) && CRATE_SOURCES.every((p) => existsSync(p));
const BUILD_TIMEOUT = 180_000;

const SEEDED = ['//vendor/memchr:memchr', '//vendor/aho-corasick:aho-corasick', '//vendor/regex-syntax:regex-syntax', '//vendor/regex:regex', '//greet:greet', '//app:app'];
const EXTERNAL = '@crate_index//itoa:itoa';
const WORKER_RUNNERS = ['worker', 'multiplex-worker'];

const crates = (spawns: Spawn[]): string[] => [...new Set(spawns.map(crateOf))].sort();

function expectSuccess(r: BuildResult): void {
  if (r.code !== 0) throw new Error(`bazel build failed (exit ${r.code}):\n${r.output.slice(-6000)}`);
}

// Hang guard, not a timing assertion (a cold build took 21 s on a busy CI machine).
describe.runIf(haveTools)('bazel worker (//rust:worker)', { timeout: 600_000 }, () => {
  let ws: BazelWorkspace;
  let snapshotDir = '';
  const flags = (...extra: string[]): string[] => [
    '--//rust:worker=true',
    '--strategy=Rustc=worker',
    '--strategy=RustcMetadata=worker',
    '--jobs=2',
    '--//rust:seed_min_mb=0',
    // -Zassert-incr-state needs it; constant across builds, so the keys match.
    '--//rust:rustc_env=RUSTC_BOOTSTRAP=1',
    ...extra,
  ];

  beforeAll(() => {
    if (!process.env.SEEDWRAP_E2E_WRAPPER && !existsSync(WRAPPER)) {
      const built = spawnSync('node', ['scripts/build.mjs'], { cwd: REPO, encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
    }
    // A snapshot: dist/ may be rebuilt while the suite runs.
    snapshotDir = mkdtempSync(join(tmpdir(), 'seedwrap-worker-wrapper-'));
    const wrapper = join(snapshotDir, 'seedwrap.cjs');
    copyFileSync(WRAPPER, wrapper);
    // Its own workspace copy and output root (and so its own server and workers).
    ws = new BazelWorkspace(wrapper);
  }, 600_000);
  afterAll(async () => {
    await ws?.dispose();
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  }, 600_000);

  it('cold build through the worker succeeds and the binary runs', async () => {
    const r = await ws.build(flags());
    expectSuccess(r);
    expect(crates(executed(r, 'Rustc'))).toEqual([...SEEDED, EXTERNAL].sort());
    for (const s of [...executed(r, 'Rustc'), ...executed(r, 'RustcMetadata')]) expect(WORKER_RUNNERS).toContain(s.runner);
    // The seed actions stay one-shot and unsandboxed.
    for (const s of r.spawns.filter((x) => x.mnemonic.endsWith('IncrSeed'))) expect(s.runner).toBe('local');
    const app = spawnSync(ws.bin('app/app'), { encoding: 'utf8' });
    expect(app.stdout).toContain('hello, seedwrap: 3 lines');
    expect(app.stdout).toContain('2 words start with t');
  }, BUILD_TIMEOUT);

  it('after a comment edit, the rebuild through the worker loads the seeds', async () => {
    appendFileSync(join(ws.dir, 'vendor/regex/src/lib.rs'), '\n// a comment edit\n');
    // Every main-workspace Rustc action re-runs (its command line changed) and
    // fails unless rustc loaded its seeded session.
    const r = await ws.build(flags('--//rust:extra_rustc_flags=-Zassert-incr-state=loaded'));
    expectSuccess(r);
    const rustc = executed(r, 'Rustc');
    expect(crates(rustc)).toEqual([...SEEDED].sort());
    for (const s of rustc) expect(WORKER_RUNNERS).toContain(s.runner);
    expect(r.output).not.toContain('asserted that an existing incremental cache');
  }, BUILD_TIMEOUT);
});
