#!/usr/bin/env node
// `npm run demo`: seedwrap's main job on a real crate, end to end.
//
// 1. a cold build of serde_json (Debian's librust-serde-json-dev sources)
//    through dist/seedwrap.cjs, with -Cincremental;
// 2. a one-line edit on a temp copy of the sources;
// 3. the RustcIncrSeed-style pair rules_rust PR #3925 runs:
//      seedwrap --seed-prev-dir PREV SEED --seed-min-mb 0 --exit-early true
//      seedwrap --copy-seed SEED INCR --seed-min-mb 0 --write-unused-inputs LIST SEEDPATH -- rustc ... -Cincremental=INCR
//    with the seed made read-only in between, as Bazel leaves a tree artifact;
// 4. the store (the recommended path): the same crate compiled the way
//    rules_rust main compiles it with `-Cincremental=${output_base}/rustc-incremental`
//    added, in two Bazel-shaped sandboxes (…/sandbox/linux-sandbox/1 and /2, as
//    two builds get); the state lives in <output_base>/rustc-incremental and the
//    second sandbox loads it (needs root or user namespaces for the stable cwd);
// 5. prints the rebuilds against two baselines: a plain compile of the
//    edited crate, which is what rules_rust does today (no -Cincremental), and
//    a cold incremental compile (what an unseeded incremental build pays);
//    whether rustc loaded the seeded session (-Zassert-incr-state=loaded,
//    under RUSTC_BOOTSTRAP=1 for this check only), and how many files were
//    linked and copied.
// Everything happens in a temp directory, kept for you to look at (its path is
// printed at the end; --clean removes it instead).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEEDWRAP = join(repo, 'dist/seedwrap.cjs');
const REGISTRY = '/usr/share/cargo/registry';
const APT = 'apt-get install -y librust-serde-json-dev';

/** Thrown (not process.exit) so that the temp directory is still removed. */
class DemoFailure extends Error {}

function fail(message) {
  throw new DemoFailure(message);
}

function findRustc() {
  for (const candidate of [process.env.RUSTC, join(homedir(), '.cargo/bin/rustc'), 'rustc']) {
    if (candidate && spawnSync(candidate, ['-V']).status === 0) return candidate;
  }
  fail('no rustc found (install rustup: https://rustup.rs, or set RUSTC)');
}

/** The newest Debian copy of a crate, e.g. /usr/share/cargo/registry/serde-1.0.152. */
function crateDir(name) {
  const found = existsSync(REGISTRY) ? readdirSync(REGISTRY).filter((d) => d.startsWith(`${name}-`) && /^\d/.test(d.slice(name.length + 1))) : [];
  if (found.length === 0) fail(`${name} sources are missing from ${REGISTRY}; install them with:\n  ${APT}`);
  return join(REGISTRY, found.sort().at(-1));
}

let RUSTC, sources;
try {
  RUSTC = findRustc();
  if (!existsSync(SEEDWRAP)) fail(`${SEEDWRAP} is missing: run \`npm run build\` (npm run demo does)`);
  sources = { serde_json: crateDir('serde_json'), serde: crateDir('serde'), itoa: crateDir('itoa'), ryu: crateDir('ryu') };
} catch (err) {
  if (!(err instanceof DemoFailure)) throw err;
  console.error(`demo: ${err.message}`);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'seedwrap-demo-'));
const bin = 'bazel-out/k8-fastbuild/bin/serde_json'; // paths as Bazel would give them, relative to the exec root
const env = { ...process.env, RUSTC_BOOTSTRAP: '1' }; // for -Zassert-incr-state only

function rustcDep(name, edition, features, extra = []) {
  const cfgs = features.flatMap((f) => ['--cfg', `feature="${f}"`]);
  execFileSync(RUSTC, ['--crate-name', name, '--edition', edition, '--crate-type', 'rlib', join(sources[name], 'src/lib.rs'),
    '--out-dir', 'deps', '-L', 'deps', '--cap-lints', 'allow', ...cfgs, ...extra], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** rustc's argv for serde_json, from a fixed exec root and out dir: reuse needs both stable. */
function serdeJsonArgs(incr, extra = []) {
  return ['--crate-name', 'serde_json', '--edition', '2018', '--crate-type', 'rlib', 'src/serde_json/src/lib.rs',
    '--cfg', 'feature="std"', '--cfg', 'limb_width_64', '--out-dir', `${bin}/out`, '-L', 'deps',
    '--extern', 'serde=deps/libserde.rlib', '--extern', 'itoa=deps/libitoa.rlib', '--extern', 'ryu=deps/libryu.rlib',
    '--cap-lints', 'allow', `-Cincremental=${incr}`, ...extra];
}

function seedwrap(args, cwd = work) {
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--', SEEDWRAP, ...args], { cwd, env: { ...env, RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' }, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, seconds: (performance.now() - started) / 1000 };
}

const WIDTH = 46;
/** One result line: labels padded to one column so the figures line up. */
function row(label, value) {
  console.log(`  ${label.padEnd(WIDTH)} ${value}`);
}

/**
 * A compile as rules_rust main runs it, plus the user's one flag, from a fresh
 * Bazel-shaped sandbox execroot whose inputs are symlinks to the real files.
 */
function storeCompile(n, extra = []) {
  const execroot = join(work, `output_base/sandbox/linux-sandbox/${n}/execroot/ws`);
  mkdirSync(execroot, { recursive: true });
  // Bazel's real execroot beside every sandbox (seedwrap checks it is there).
  mkdirSync(join(work, 'output_base/execroot/ws'), { recursive: true });
  for (const input of ['src', 'deps']) if (!existsSync(join(execroot, input))) symlinkSync(join(work, input), join(execroot, input));
  return seedwrap(['--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--', RUSTC,
    ...serdeJsonArgs('${output_base}/rustc-incremental', ['--remap-path-prefix=${output_base}=ob', '--remap-path-prefix=${pwd}=.', ...extra])], execroot);
}

/** "--copy-seed SRC DEST: seeded, 110 linked, 64 copied, ..." from seedwrap's debug output. */
function seedCounts(stderr, flag) {
  const m = new RegExp(`${flag} \\S+ \\S+: (\\S+), (\\d+) linked, (\\d+) copied`).exec(stderr);
  return m ? { outcome: m[1], linked: Number(m[2]), copied: Number(m[3]) } : undefined;
}

try {
  console.log(`seedwrap demo: ${sources.serde_json.split('/').pop()} with ${execFileSync(RUSTC, ['-V'], { encoding: 'utf8' }).trim()}, in ${work}`);
  cpSync(sources.serde_json, join(work, 'src/serde_json'), { recursive: true });
  rustcDep('itoa', '2018', []);
  rustcDep('ryu', '2015', []);
  rustcDep('serde', '2015', ['std']);

  // 1. cold build, through seedwrap
  const incr = `${bin}/lib-incr`;
  const cold = seedwrap(['--', RUSTC, ...serdeJsonArgs(incr)]);
  if (cold.status !== 0) fail(`cold build failed:\n${cold.stderr}`);
  row('cold incremental build (-Cincremental)', `${cold.seconds.toFixed(2)} s`);

  // 4a. the store, first build: cold, state kept in <output_base>/rustc-incremental
  const storeCold = storeCompile(1);
  if (storeCold.status !== 0) fail(`store: cold build failed:\n${storeCold.stderr}`);
  row('store: cold build (sandbox 1)', `${storeCold.seconds.toFixed(2)} s`);

  // Between builds Bazel deletes the action's outputs; the previous tree survives as PREV.
  const prev = 'prev/serde_json-incr';
  cpSync(join(work, incr), join(work, prev), { recursive: true });
  rmSync(join(work, incr), { recursive: true });

  // 2. a one-line edit
  appendFileSync(join(work, 'src/serde_json/src/lib.rs'), 'pub fn seedwrap_demo_edit() -> usize { 42 }\n');
  row('one-line edit', 'src/serde_json/src/lib.rs: appended a function');

  // Baseline: the edited crate compiled as rules_rust compiles it today, no incremental cache.
  const plain = seedwrap(['--', RUSTC, ...serdeJsonArgs(incr).filter((arg) => !arg.startsWith('-Cincremental='))]);
  if (plain.status !== 0) fail(`plain build failed:\n${plain.stderr}`);
  row('plain rebuild (rules_rust today, no cache)', `${plain.seconds.toFixed(2)} s`);

  // 3a. RustcIncrSeed: previous tree → seed tree artifact, no child
  const seedPath = `${bin}/lib-incr-seed`;
  const a = seedwrap(['--seed-prev-dir', prev, seedPath, '--seed-min-mb', '0', '--exit-early', 'true']);
  if (a.status !== 0) fail(`--seed-prev-dir step failed:\n${a.stderr}`);
  const aCounts = seedCounts(a.stderr, '--seed-prev-dir');
  execFileSync('chmod', ['-R', 'a-w', join(work, seedPath)]); // Bazel makes tree artifacts read-only

  // 3b. Rustc: seed tree → fresh writable incremental dir, then rustc, which must load it
  const list = `${bin}/unused-inputs.txt`;
  // --seed-min-mb 0: serde_json's session (~16 MiB) is below the default 20 MiB threshold
  const b = seedwrap(['--copy-seed', seedPath, incr, '--seed-min-mb', '0', '--write-unused-inputs', list, seedPath, '--', RUSTC, ...serdeJsonArgs(incr, ['-Zassert-incr-state=loaded'])]);
  const bCounts = seedCounts(b.stderr, '--copy-seed');
  const loaded = b.status === 0;
  const seeded = a.seconds + b.seconds;
  row('seed step (--seed-prev-dir, --exit-early)', `${a.seconds.toFixed(2)} s   ${aCounts ? `${aCounts.linked} linked, ${aCounts.copied} copied` : 'no report'}`);
  row('seeded rebuild (--copy-seed … -- rustc)', `${b.seconds.toFixed(2)} s   ${bCounts ? `${bCounts.linked} linked, ${bCounts.copied} copied (*.o get inodes of their own)` : 'no report'}`);
  row('rustc loaded the seeded session', loaded ? 'yes (-Zassert-incr-state=loaded passed)' : 'NO');
  if (!loaded) fail(`rustc did not reuse the seed:\n${b.stderr}`);
  // 4b. the store, after the edit: a new sandbox (another N), rustc must load the stored session
  const storeWarm = storeCompile(2, ['-Zassert-incr-state=loaded']);
  row('store: rebuild in a new sandbox (sandbox 2)', `${storeWarm.seconds.toFixed(2)} s`);
  row('rustc loaded the stored session', storeWarm.status === 0 ? 'yes (-Zassert-incr-state=loaded passed)' : 'NO');
  if (storeWarm.status !== 0) fail(`rustc did not reuse the store:\n${storeWarm.stderr}`);
  const unused = readFileSync(join(work, list), 'utf8');
  row('--write-unused-inputs wrote', JSON.stringify(unused));
  const ratio2 = (t, base) => (base / t >= 1 ? `${(base / t).toFixed(2)}× faster` : `${(t / base).toFixed(2)}× slower`);
  const ratio = (base) => (base / seeded >= 1 ? `${(base / seeded).toFixed(2)}× faster` : `${(seeded / base).toFixed(2)}× slower`);
  console.log('');
  // The honest comparison is against what a rules_rust rebuild costs today.
  console.log(`  store rebuild ${storeWarm.seconds.toFixed(2)} s (incl. Node start-up) vs plain rebuild ${plain.seconds.toFixed(2)} s: ${ratio2(storeWarm.seconds, plain.seconds)}`);
  console.log(`  seeded rebuild ${seeded.toFixed(2)} s (both steps, incl. Node start-up) vs plain rebuild ${plain.seconds.toFixed(2)} s: ${ratio(plain.seconds)}`);
  console.log(`  (vs a cold incremental build, ${cold.seconds.toFixed(2)} s: ${ratio(cold.seconds)}; an unseeded incremental build pays that on every sandboxed rebuild)`);
} catch (err) {
  if (!(err instanceof DemoFailure)) throw err;
  console.error(`\ndemo: ${err.message}`);
  process.exitCode = 1;
} finally {
  if (process.argv.includes('--clean')) {
    spawnSync('chmod', ['-R', 'u+w', work]); // the seed tree is read-only, as Bazel leaves it
    rmSync(work, { recursive: true, force: true });
  } else {
    console.log(`\n  kept ${work} (the seed tree in it is read-only, as Bazel leaves it);`);
    console.log(`  remove it with: chmod -R u+w ${work} && rm -rf ${work}`);
  }
}
