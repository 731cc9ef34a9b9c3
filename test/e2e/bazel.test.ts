// End to end with Debian's Bazel 4.2.3 and rustc 1.95: examples/bazel built
// with seedwrap as every rustc action's executable, under each spawn strategy.
//
// Per strategy, in order, on one private workspace copy and output root:
//   cold build → comment edit (rustc must load the seeded session) → a change
//   to the seeds alone (compiles must not re-run) → no-op → bazel clean with
//   --disk_cache → bazel clean with only the HTTP cache.
// Every build also talks to an HTTP cache on 127.0.0.1 (nginx with WebDAV,
// see nginxCache.ts), so each build's uploads are counted. Timings are reported, not asserted.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BazelWorkspace, REPO, RUSTC, cacheHits, crateOf, executed, type BuildResult, type Spawn } from './bazelHarness.ts';
import { startNginxCache, type CacheStats, type NginxCache } from './nginxCache.ts';

const WRAPPER = process.env.SEEDWRAP_E2E_WRAPPER ?? join(REPO, 'dist/seedwrap.cjs');
// The example's crates link to Debian's librust-*-dev sources.
const CRATE_SOURCES = ['memchr-2.5.0', 'aho-corasick-0.7.19', 'regex-syntax-0.6.27', 'regex-1.7.1', 'itoa-1.0.1'].map(
  (c) => `/usr/share/cargo/registry/${c}/src`,
);
const haveTools = spawnSync('bazel', ['--version']).status === 0 && existsSync(RUSTC) && CRATE_SOURCES.every((p) => existsSync(p));
const BUILD_TIMEOUT = 240_000;

const STRATEGIES = [
  { name: 'linux-sandbox', flag: '--spawn_strategy=linux-sandbox' },
  { name: 'processwrapper-sandbox', flag: '--spawn_strategy=processwrapper-sandbox' },
  { name: 'no-sandbox', flag: '--spawn_strategy=local' },
] as const;

// Crates of the main workspace (seeded) and of @crate_index (never seeded).
const SEEDED = ['//vendor/memchr:memchr', '//vendor/aho-corasick:aho-corasick', '//vendor/regex-syntax:regex-syntax', '//vendor/regex:regex', '//greet:greet', '//app:app'];
const EXTERNAL = '@crate_index//itoa:itoa';
const EDITED = 'vendor/regex/src/lib.rs';
const EDITED_RUSTC = 'Compiling //vendor/regex:regex (Rustc)';
// Crates whose inputs the edit changes: their cache entries are keyed on the edit.
const AFFECTED = ['//vendor/regex:regex', '//app:app'];

interface Row {
  strategy: string;
  build: string;
  ms: number;
  regexRustcMs?: number;
  executed: number;
  cacheHits: number;
  http: CacheStats;
}
const rows: Row[] = [];

function record(strategy: string, build: string, r: BuildResult, http: NginxCache): Row {
  const row: Row = {
    strategy,
    build,
    ms: Math.round(r.ms),
    executed: r.spawns.filter((s) => !s.remoteCacheHit).length,
    cacheHits: r.spawns.filter((s) => s.remoteCacheHit).length,
    http: http.takeStats(),
  };
  const regex = r.actionMs.get(EDITED_RUSTC);
  if (regex !== undefined) row.regexRustcMs = Math.round(regex);
  rows.push(row);
  return row;
}

function expectSuccess(r: BuildResult): void {
  if (r.code !== 0) throw new Error(`bazel build failed (exit ${r.code}):\n${r.output.slice(-6000)}`);
}

const crates = (spawns: Spawn[]): string[] => [...new Set(spawns.map(crateOf))].sort();

// One snapshot of the wrapper for the whole file: dist/ may be rebuilt while
// the suite runs, and the wrapper's bytes are part of every action key.
let wrapper = '';
let snapshotDir = '';
beforeAll(() => {
  if (!haveTools) return;
  if (!process.env.SEEDWRAP_E2E_WRAPPER && !existsSync(WRAPPER)) {
    const built = spawnSync('node', ['scripts/build.mjs'], { cwd: REPO, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
  }
  snapshotDir = mkdtempSync(join(tmpdir(), 'seedwrap-bazel-wrapper-'));
  wrapper = join(snapshotDir, 'seedwrap.cjs');
  copyFileSync(WRAPPER, wrapper);
}, 600_000);

afterAll(() => {
  if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
  if (rows.length === 0) return;
  const table = rows.map((r) => ({
    strategy: r.strategy,
    build: r.build,
    'wall ms': r.ms,
    'regex Rustc ms': r.regexRustcMs ?? '',
    executed: r.executed,
    'cache hits': r.cacheHits,
    'http ac hit/get': `${r.http.acHits}/${r.http.acGets}`,
    'http uploaded KiB': Math.round(r.http.bytesUploaded / 1024),
  }));
  console.table(table);
  const out = process.env.SEEDWRAP_E2E_RESULTS;
  if (out) writeFileSync(out, JSON.stringify(rows, null, 2) + '\n');
});

describe.skipIf(!haveTools)('analysis: what is seeded', { timeout: 600_000 }, () => {
  let ws: BazelWorkspace;
  beforeAll(() => {
    ws = new BazelWorkspace(wrapper);
  });
  afterAll(async () => {
    await ws?.dispose();
  });

  const seedActions = async (...flags: string[]): Promise<string> => {
    const q = await ws.bazel('aquery', 'mnemonic("Rustc.*IncrSeed", deps(//app))', '--output=text', ...flags);
    if (q.code !== 0) throw new Error(q.output);
    return q.output;
  };

  it('seeds main-workspace crates (compile and metadata actions), never @crate_index', async () => {
    const out = await seedActions();
    for (const label of SEEDED) expect(out).toContain(`Seeding Rustc ${label}`);
    expect(out).toContain('Seeding RustcMetadata //vendor/regex-syntax:regex-syntax');
    expect(out).not.toContain(EXTERNAL);
  }, 600_000);

  it('never seeds opt builds, nor with //rust:seed=false', async () => {
    expect(await seedActions('--compilation_mode=opt')).not.toContain('Seeding');
    expect(await seedActions('--//rust:seed=false')).not.toContain('Seeding');
    const opt = await ws.bazel('aquery', 'mnemonic("Rustc", deps(//app))', '--output=text', '--compilation_mode=opt');
    expect(opt.output).toContain('-Copt-level=3');
    expect(opt.output).not.toContain('-Cincremental');
  }, 600_000);
});

// Timeouts here are hang guards, not timing assertions: a cold Bazel build took
// 31 s on a busy CI machine against the suite's default of 60 s.
describe.runIf(haveTools).each(STRATEGIES)('bazel $name', { timeout: 600_000 }, ({ name, flag }) => {
  let ws: BazelWorkspace;
  let http: NginxCache;
  let disk: string;
  const flags = (...extra: string[]): string[] => [
    flag,
    '--jobs=2',
    // memchr's and greet's seeds are far below the default 20 MiB.
    '--//rust:seed_min_mb=0',
    // -Zassert-incr-state needs it; constant across builds, so the keys match.
    '--//rust:rustc_env=RUSTC_BOOTSTRAP=1',
    `--remote_cache=${http.url}`,
    ...extra,
  ];
  const ASSERT_LOADED = '--//rust:extra_rustc_flags=-Zassert-incr-state=loaded';

  beforeAll(async () => {
    ws = new BazelWorkspace(wrapper);
    http = await startNginxCache();
    disk = mkdtempSync(join(tmpdir(), 'seedwrap-bazel-disk-'));
  });
  afterAll(async () => {
    await ws?.dispose();
    await http?.close();
    if (disk) rmSync(disk, { recursive: true, force: true });
  });

  it('cold build compiles every crate and the binary runs', async () => {
    const r = await ws.build(flags(`--disk_cache=${disk}`));
    expectSuccess(r);
    record(name, 'cold', r, http);
    expect(crates(executed(r, 'Rustc'))).toEqual([...SEEDED, EXTERNAL].sort());
    expect(crates(executed(r, 'RustcIncrSeed'))).toEqual([...SEEDED].sort());
    // Seed actions read outside their inputs: always local, never cached.
    for (const s of r.spawns.filter((x) => x.mnemonic.endsWith('IncrSeed'))) expect(s.runner).toBe('local');
    const app = spawnSync(ws.bin('app/app'), { encoding: 'utf8' });
    expect(app.stdout).toContain('hello, seedwrap: 3 lines');
    expect(app.stdout).toContain('2 words start with t');
  }, BUILD_TIMEOUT);

  it('after a comment edit, rustc loads the seeded session', async () => {
    appendFileSync(join(ws.dir, EDITED), '\n// a comment edit\n');
    // -Zassert-incr-state=loaded makes every main-workspace Rustc action
    // (all re-run: their command line changed) fail unless it loaded its seed.
    const r = await ws.build(flags(`--disk_cache=${disk}`, ASSERT_LOADED));
    expectSuccess(r);
    record(name, 'comment edit, seeded', r, http);
    expect(crates(executed(r, 'Rustc'))).toEqual([...SEEDED].sort());
    expect(r.output).not.toContain('asserted that an existing incremental cache');
  }, BUILD_TIMEOUT);

  it('a change that touches only the seeds does not re-run the compile actions', async () => {
    // A new threshold changes only the seed actions' command lines. They re-run
    // and now seed from the previous build's trees (new bytes); the compile
    // actions listed their seed as unused, so their action-cache entries hold.
    const r = await ws.build(flags(`--disk_cache=${disk}`, ASSERT_LOADED, '--//rust:seed_min_mb=1'));
    expectSuccess(r);
    record(name, 'seed-only change', r, http);
    expect(executed(r, 'RustcIncrSeed').length).toBeGreaterThan(0);
    expect(executed(r, 'Rustc')).toEqual([]);
    expect(executed(r, 'RustcMetadata')).toEqual([]);
  }, BUILD_TIMEOUT);

  it('a no-op build runs nothing', async () => {
    const r = await ws.build(flags(`--disk_cache=${disk}`, ASSERT_LOADED, '--//rust:seed_min_mb=1'));
    expectSuccess(r);
    record(name, 'no-op', r, http);
    expect(r.spawns).toEqual([]);
  }, BUILD_TIMEOUT);

  it('--disk_cache hits after bazel clean', async () => {
    expect((await ws.bazel('clean')).code).toBe(0);
    const r = await ws.build(flags(`--disk_cache=${disk}`));
    expectSuccess(r);
    record(name, 'clean, --disk_cache', r, http);
    // Unchanged crates were stored by the cold build with the same (empty)
    // seed: hits. The edited crates' only entries were stored by seeded
    // compiles, whose keys include the seed: misses, compiled cold.
    const hit = crates(cacheHits(r, 'Rustc'));
    expect(hit).toEqual([...SEEDED, EXTERNAL].filter((c) => !AFFECTED.includes(c)).sort());
    expect(crates(executed(r, 'Rustc'))).toEqual([...AFFECTED].sort());
    expect(cacheHits(r, 'RustcIncrSeed')).toEqual([]);
  }, BUILD_TIMEOUT);

  it('HTTP cache alone: hits after bazel clean', async () => {
    expect((await ws.bazel('clean')).code).toBe(0);
    const r = await ws.build(flags());
    expectSuccess(r);
    const row = record(name, 'clean, HTTP cache only', r, http);
    // The previous build uploaded the cold compiles of the edited crates.
    expect(crates(cacheHits(r, 'Rustc'))).toEqual([...SEEDED, EXTERNAL].sort());
    expect(executed(r, 'Rustc')).toEqual([]);
    expect(row.http.acHits).toBeGreaterThan(0);
  }, BUILD_TIMEOUT);
});
