// End to end: the worker's one rustc per pipelined crate (src/pipeline/shared.ts)
// in Bazel 4.2.3: examples/bazel, rules_rust_main flavor (a crate's Rustc and
// RustcMetadata actions run the same rustc command), both mnemonics in
// multiplex workers with their store. rustc runs behind a script that logs
// its --crate-name, so the test sees how many rustc processes each crate cost.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BazelWorkspace, REPO, RUSTC, type BuildResult } from './bazelHarness.ts';

const WRAPPER = process.env.SEEDWRAP_E2E_WRAPPER ?? join(REPO, 'dist/seedwrap.cjs');
const haveTools = spawnSync('bazel', ['--version']).status === 0 && existsSync(RUSTC) && existsSync('/usr/share/cargo/registry/memchr-2.5.0/src');
const BUILD_TIMEOUT = 300_000;

function expectSuccess(r: BuildResult): void {
  if (r.code !== 0) throw new Error(`bazel build failed (exit ${r.code}):\n${r.output.slice(-6000)}`);
}

describe.runIf(haveTools)('bazel: one rustc per pipelined crate in the worker', { timeout: 600_000 }, () => {
  let ws: BazelWorkspace;
  let tmp = '';
  let log = '';
  const crateRuns = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
  const flags = (tool: string): string[] => [
    '--//rust:flavor=rules_rust_main',
    `--//rust:rustc=${tool}`,
    '--//rust:worker=true',
    '--strategy=Rustc=worker',
    '--strategy=RustcMetadata=worker',
    '--//rust:worker_startup_flags=--worker-incremental-dir,auto',
    '--jobs=2',
  ];

  beforeAll(() => {
    if (!process.env.SEEDWRAP_E2E_WRAPPER && !existsSync(WRAPPER)) {
      const built = spawnSync('node', ['scripts/build.mjs'], { cwd: REPO, encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
    }
    tmp = mkdtempSync(join(tmpdir(), 'seedwrap-wpipe-e2e-'));
    copyFileSync(WRAPPER, join(tmp, 'seedwrap.cjs'));
    log = join(tmp, 'rustc-runs.log');
    ws = new BazelWorkspace(join(tmp, 'seedwrap.cjs'));
  }, 600_000);
  afterAll(async () => {
    await ws?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 600_000);

  it('a cold build and a rebuild after a body edit in the bottom crate run one rustc per crate', async () => {
    // Named rustc*: the worker's store adds -Cincremental only to a program called rustc.
    const tool = join(tmp, 'rustc');
    writeFileSync(tool, `#!/bin/sh\nfor a in "$@"; do case "$a" in --crate-name=*) echo "\${a#--crate-name=}" >> '${log}';; esac; done\nexec '${RUSTC}' "$@"\n`);
    chmodSync(tool, 0o755);
    const cold = await ws.build(flags(tool));
    expectSuccess(cold);
    const coldRuns = crateRuns();
    expect(coldRuns.length).toBeGreaterThanOrEqual(6);
    expect(new Set(coldRuns).size, coldRuns.join(' ')).toBe(coldRuns.length);
    expect(coldRuns).toEqual(expect.arrayContaining(['memchr', 'aho_corasick', 'regex_syntax', 'regex', 'app']));
    expect(spawnSync(ws.bin('app/app'), { encoding: 'utf8' }).stdout).toContain('hello, seedwrap');

    const bottom = join(ws.dir, 'vendor/memchr/src/lib.rs');
    if (lstatSync(bottom).isSymbolicLink()) throw new Error(`${bottom} is a symlink: not editing it`);
    writeFileSync(bottom, `${readFileSync(bottom, 'utf8')}\n#[allow(dead_code)]\nfn seedwrap_e2e_edit() -> u32 { 1 }\n`);
    const edit = await ws.build(flags(tool));
    expectSuccess(edit);
    const editRuns = crateRuns().slice(coldRuns.length);
    expect(editRuns).toContain('memchr');
    // The metadata and full actions of every re-run pipelined crate shared one rustc.
    expect(new Set(editRuns).size, editRuns.join(' ')).toBe(editRuns.length);
    expect(spawnSync(ws.bin('app/app'), { encoding: 'utf8' }).stdout).toContain('hello, seedwrap');
  }, BUILD_TIMEOUT);
});
