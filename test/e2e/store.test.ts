// End to end with Debian's Bazel 4.2.3: the store. examples/bazel in its
// rules_rust_main flavor (the actions plain rules_rust main writes: no seed
// action, no incremental output) with the one flag a rules_rust user adds,
// -Cincremental=${output_base}/rustc-incremental, under linux-sandbox with
// --sandbox_writable_path=<output_base>/rustc-incremental. Two workspaces with
// their own output bases ("machines" A and B) share one nginx HTTP cache.
//
// In order: A cold → B same tree (all hits) → A comment edit (rustc reuses
// its stored session) → B same edit (all hits) → nothing incremental in the
// cache → A with -Zassert-incr-state=loaded on every workspace Rustc action →
// a store-built rlib from A linked with dependents compiled in B against a
// cold-built rmeta.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BazelWorkspace, REPO, RUSTC, cacheHits, crateOf, executed, type BuildResult, type Spawn } from './bazelHarness.ts';
import { NGINX, isIncrementalState, startNginxCache, type NginxCache } from './nginxCache.ts';

const WRAPPER = process.env.SEEDWRAP_E2E_WRAPPER ?? join(REPO, 'dist/seedwrap.cjs');
const CRATE_SOURCES = ['memchr-2.5.0', 'aho-corasick-0.7.19', 'regex-syntax-0.6.27', 'regex-1.7.1', 'itoa-1.0.1'].map(
  (c) => `/usr/share/cargo/registry/${c}/src`,
);
const haveTools =
  spawnSync('bazel', ['--version']).status === 0 && existsSync(RUSTC) && existsSync(NGINX) && CRATE_SOURCES.every((p) => existsSync(p));
const BUILD_TIMEOUT = 600_000;

const WORKSPACE_CRATES = ['//vendor/memchr:memchr', '//vendor/aho-corasick:aho-corasick', '//vendor/regex-syntax:regex-syntax', '//vendor/regex:regex', '//greet:greet', '//app:app'];
const EXTERNAL = '@crate_index//itoa:itoa';
const ALL = [...WORKSPACE_CRATES, EXTERNAL].sort();
// Libraries whose pipelined rmeta another library compiles against (the
// binary links rlibs, so Bazel never runs regex's and greet's metadata actions).
const PIPELINED = ['//vendor/memchr:memchr', '//vendor/aho-corasick:aho-corasick', '//vendor/regex-syntax:regex-syntax', EXTERNAL].sort();
// rustc's names for them (the store's crate directories are <name>-<id>).
const STORE_NAMES = ['memchr', 'aho_corasick', 'regex_syntax', 'regex', 'greet', 'app'];
const STORE_FLAG = '--//rust/settings:extra_rustc_flags=-Cincremental=${output_base}/rustc-incremental';

const crates = (spawns: Spawn[]): string[] => [...new Set(spawns.map(crateOf))].sort();
const compiles = (r: BuildResult): Spawn[] => r.spawns.filter((s) => s.mnemonic === 'Rustc' || s.mnemonic === 'RustcMetadata');

function expectSuccess(r: BuildResult): void {
  if (r.code !== 0) throw new Error(`bazel build failed (exit ${r.code}):\n${r.output.slice(-6000)}`);
}

function expectAppRuns(ws: BazelWorkspace): void {
  const app = spawnSync(ws.bin('app/app'), { encoding: 'utf8' });
  expect(app.status).toBe(0);
  expect(app.stdout).toContain('hello, seedwrap: 3 lines');
  expect(app.stdout).toContain('2 words start with t');
}

/** Every directory under `dir` (any depth) that rustc made for a crate: `<name>-<id>`. */
function crateDirs(dir: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (d: string, depth: number) => {
    if (depth > 4 || !existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const m = /^([a-z_][a-z0-9_]*)-[0-9a-z]+$/.exec(e.name);
      if (m && !e.name.startsWith('s-')) found.set(m[1]!, [...(found.get(m[1]!) ?? []), join(d, e.name)]);
      else walk(join(d, e.name), depth + 1);
    }
  };
  walk(dir, 0);
  return found;
}

/** The work products (object files) of a crate's store directories, path → inode. */
function workProducts(dirs: string[]): Map<string, number> {
  const inodes = new Map<string, number>();
  for (const dir of dirs) {
    for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      const p = join(dir, rel);
      if (p.endsWith('.o')) inodes.set(p, statSync(p).ino);
    }
  }
  return inodes;
}

interface Row {
  build: string;
  ms: number;
  executed: number;
  remoteHits: number;
  uploadedKiB: number;
  acHitsOfGets: string;
}
const rows: Row[] = [];

// Hang guards, not timing assertions: builds are slow on a busy 2-core machine.
describe.runIf(haveTools)('the store: rules_rust main actions + -Cincremental=${output_base}/rustc-incremental', { timeout: 600_000 }, () => {
  let snapshotDir = '';
  let cache: NginxCache;
  let a: BazelWorkspace;
  let b: BazelWorkspace;
  const outputBase = new Map<BazelWorkspace, string>();
  const store = (ws: BazelWorkspace) => join(outputBase.get(ws)!, 'rustc-incremental');
  const flags = (ws: BazelWorkspace, ...extra: string[]): string[] => [
    '--//rust:flavor=rules_rust_main',
    '--spawn_strategy=linux-sandbox',
    '--jobs=2',
    STORE_FLAG,
    // -Zassert-incr-state needs it; the same in every build, so keys match.
    '--//rust:rustc_env=RUSTC_BOOTSTRAP=1',
    `--sandbox_writable_path=${store(ws)}`,
    `--remote_cache=${cache.url}`,
    ...extra,
  ];
  const build = async (ws: BazelWorkspace, name: string, ...extra: string[]): Promise<BuildResult> => {
    const r = await ws.build(flags(ws, ...extra));
    expectSuccess(r);
    const http = cache.takeStats();
    rows.push({
      build: name,
      ms: Math.round(r.ms),
      executed: compiles(r).filter((s) => !s.remoteCacheHit).length,
      remoteHits: compiles(r).filter((s) => s.remoteCacheHit).length,
      uploadedKiB: Math.round(http.bytesUploaded / 1024),
      acHitsOfGets: `${http.acHits}/${http.acGets}`,
    });
    return r;
  };

  beforeAll(async () => {
    if (!process.env.SEEDWRAP_E2E_WRAPPER && !existsSync(WRAPPER)) {
      const built = spawnSync('node', ['scripts/build.mjs'], { cwd: REPO, encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
    }
    // A snapshot: dist/ may be rebuilt while the suite runs, and the
    // wrapper's bytes are part of every action key.
    snapshotDir = mkdtempSync(join(tmpdir(), 'seedwrap-store-wrapper-'));
    const wrapper = join(snapshotDir, 'seedwrap.cjs');
    copyFileSync(WRAPPER, wrapper);
    cache = await startNginxCache();
    a = new BazelWorkspace(wrapper);
    b = new BazelWorkspace(wrapper);
    for (const ws of [a, b]) {
      outputBase.set(ws, await ws.outputBase());
      // The sandbox can only make an existing directory writable.
      mkdirSync(store(ws), { recursive: true });
    }
  }, 600_000);
  afterAll(async () => {
    await a?.dispose();
    await b?.dispose();
    await cache?.close();
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
    if (rows.length > 0) console.table(rows);
  }, 600_000);

  it('analysis: the compile actions carry what rules_rust main passes, and nothing incremental', async () => {
    const q = await a.bazel('aquery', 'mnemonic("Rustc.*", deps(//app))', '--output=text', ...flags(a));
    if (q.code !== 0) throw new Error(q.output);
    const actions = q.output.split(/\naction '/).slice(1);
    const of = (label: string, mnemonic: string) => actions.find((x) => x.startsWith(`Compiling ${label} (${mnemonic})'`)) ?? '';
    expect(actions.map((x) => x.slice(0, x.indexOf("'"))).filter((m) => m.includes('Seeding'))).toEqual([]);
    for (const label of ALL) {
      const rustc = of(label, 'Rustc');
      for (const subst of ["'pwd=${pwd}'", "'exec_root=${exec_root}'", "'output_base=${output_base}'"]) expect(rustc).toContain(`--subst \\\n    ${subst}`);
      const remaps = ["'--remap-path-prefix=${output_base}=.'", "'--remap-path-prefix=${pwd}=.'"].map((r) => rustc.indexOf(r));
      expect(remaps[0]).toBeGreaterThan(0);
      expect(remaps[1]).toBeGreaterThan(remaps[0]!);
      expect(rustc).toContain("'-Cincremental=${output_base}/rustc-incremental'");
      expect(rustc).toMatch(/--rustc-output-format \\\n\s+rendered/);
      // Declared outputs: the crate's files only, never an incremental tree.
      const outputs = /Outputs: \[([^\]]*)\]/.exec(rustc)?.[1] ?? '';
      expect(outputs).not.toMatch(/incr|unused_inputs/);
    }
    for (const label of PIPELINED) expect(of(label, 'RustcMetadata')).toMatch(/--rustc-quit-on-rmeta \\\n\s+true/);
    // memchr's cfgs come from its build script's outputs, as rules_rust passes them.
    const memchr = of('//vendor/memchr:memchr', 'Rustc');
    expect(memchr).toMatch(/--arg-file \\\n\s+bazel-out\/k8-fastbuild\/bin\/vendor\/memchr\/memchr\.build_script\.flags/);
    expect(memchr).toMatch(/--env-file \\\n\s+bazel-out\/k8-fastbuild\/bin\/vendor\/memchr\/memchr\.build_script\.env/);
    expect(memchr).not.toContain('--cfg=memchr_runtime');
  }, BUILD_TIMEOUT);

  it('A, cold: every crate compiled (no seed action), workspace crates keep state in the store, the binary runs', async () => {
    const r = await build(a, 'A cold');
    expect(crates(executed(r, 'Rustc'))).toEqual(ALL);
    expect(crates(executed(r, 'RustcMetadata'))).toEqual(PIPELINED);
    expect(r.spawns.map((s) => s.mnemonic).filter((m) => m.endsWith('IncrSeed'))).toEqual([]);
    for (const s of compiles(r)) expect(s.runner).toBe('linux-sandbox');
    expect(r.output).not.toContain('seedwrap:');
    // rustc's per-crate directories, in the real output base: workspace
    // crates only (itoa comes from the external @crate_index).
    const dirs = crateDirs(store(a));
    expect([...dirs.keys()].sort()).toEqual([...STORE_NAMES].sort());
    expectAppRuns(a);
  }, BUILD_TIMEOUT);

  it('B, the same tree: every compile action is a remote cache hit', async () => {
    const r = await build(b, 'B same tree');
    expect(crates(cacheHits(r, 'Rustc'))).toEqual(ALL);
    expect(crates(cacheHits(r, 'RustcMetadata'))).toEqual(PIPELINED);
    expect(executed(r, 'Rustc')).toEqual([]);
    expect(executed(r, 'RustcMetadata')).toEqual([]);
    expectAppRuns(b);
  }, BUILD_TIMEOUT);

  it('A, after a comment edit: only regex and its dependent re-run, and rustc builds on its stored session', async () => {
    const regexDirs = () => crateDirs(store(a)).get('regex') ?? [];
    const before = workProducts(regexDirs());
    expect(before.size).toBeGreaterThan(0);
    appendFileSync(join(a.dir, 'vendor/regex/src/lib.rs'), '\n// a comment edit\n');
    const r = await build(a, 'A comment edit');
    expect(crates(executed(r, 'Rustc'))).toEqual(['//app:app', '//vendor/regex:regex']);
    expect(executed(r, 'RustcMetadata')).toEqual([]);
    // No flag was added (it would change the keys): the evidence is rustc's
    // own. Loading a session, rustc hard-links its files into the new
    // session directory and keeps the object files of unchanged codegen
    // units; a discarded session leaves none of them.
    const oldInodes = new Set(before.values());
    const after = workProducts(regexDirs());
    const reused = [...after].filter(([path, ino]) => !before.has(path) && oldInodes.has(ino));
    expect(reused.length).toBeGreaterThan(0);
    expectAppRuns(a);
  }, BUILD_TIMEOUT);

  it('B, the same edit: every compile action is a remote cache hit', async () => {
    appendFileSync(join(b.dir, 'vendor/regex/src/lib.rs'), '\n// a comment edit\n');
    const r = await build(b, 'B same edit');
    // What the edit invalidated, all from A's uploads.
    expect(crates(cacheHits(r, 'Rustc'))).toEqual(['//app:app', '//vendor/regex:regex']);
    expect(executed(r, 'Rustc')).toEqual([]);
    expect(executed(r, 'RustcMetadata')).toEqual([]);
    expectAppRuns(b);
  }, BUILD_TIMEOUT);

  it('the cache holds outputs only: no incremental state was uploaded', () => {
    const blobs = cache.casBlobs();
    expect(blobs.length).toBeGreaterThan(0);
    const incremental = blobs.filter((blob) => isIncrementalState(blob.path));
    const mib = (n: number) => (n / 1048576).toFixed(1);
    console.log(
      `cache: ${blobs.length} CAS blobs, ${mib(blobs.reduce((t, x) => t + x.bytes, 0))} MiB; incremental state: ${incremental.length} blobs, ${mib(incremental.reduce((t, x) => t + x.bytes, 0))} MiB`,
    );
    expect(incremental.map((blob) => basename(blob.path))).toEqual([]);
  });

  it('A, -Zassert-incr-state=loaded on every workspace Rustc action: all re-run (the flag is in their keys) and all load the store', async () => {
    const r = await build(a, 'A assert loaded', '--//rust:extra_rustc_flags=-Zassert-incr-state=loaded');
    expect(crates(executed(r, 'Rustc'))).toEqual([...WORKSPACE_CRATES].sort());
    expect(r.output).not.toContain('asserted that an existing incremental cache');
  }, BUILD_TIMEOUT);

  it('a store-built rlib (A) links with dependents compiled in B against a cold-built rmeta', async () => {
    const edit = (ws: BazelWorkspace) => appendFileSync(join(ws.dir, 'vendor/memchr/src/lib.rs'), '\n// an edit at the bottom of the graph\n');
    edit(a);
    const ra = await build(a, 'A memchr edit');
    expect(crates(executed(ra, 'Rustc'))).toContain('//vendor/memchr:memchr');
    edit(b);
    // B takes memchr's rlib from A: compiled from A's store.
    const only = await b.build(flags(b), '//vendor/memchr');
    expectSuccess(only);
    expect(crates(cacheHits(only, 'Rustc'))).toEqual(['//vendor/memchr:memchr']);
    // Then B compiles the rest itself: memchr's metadata action with no
    // state for memchr in B's store (a cold incremental compile), and every
    // dependent against that rmeta; the binary links A's memchr rlib.
    expect(crateDirs(store(b)).has('memchr')).toBe(false);
    const rb = await build(b, 'B memchr edit, compiled locally', '--noremote_accept_cached');
    expect(crates(rb.spawns.filter((s) => s.mnemonic === 'Rustc' && s.progressMessage.includes('memchr')))).toEqual([]);
    expect(crates(executed(rb, 'RustcMetadata'))).toContain('//vendor/memchr:memchr');
    expect(crates(executed(rb, 'Rustc'))).toEqual(['//app:app', '//greet:greet', '//vendor/aho-corasick:aho-corasick', '//vendor/regex:regex']);
    const bytes = (ws: BazelWorkspace, path: string) => readFileSync(ws.bin(path));
    const same = (path: string) => (bytes(a, path).equals(bytes(b, path)) ? 'identical' : 'different bytes');
    console.log(`memchr rmeta, A (store) vs B (cold): ${same('vendor/memchr/libmemchr.rmeta')}; memchr rlib in B is A's: ${same('vendor/memchr/libmemchr.rlib')}`);
    expectAppRuns(b);
  }, BUILD_TIMEOUT);
});
