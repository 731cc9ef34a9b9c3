#!/usr/bin/env node
// Seeding benchmark: seedwrap's engine (in-process) vs `cp -al`, vs a native
// 2-thread baseline (bench/native-seed), on real incremental trees (itoa,
// serde_json, regex, syn built by build-crates.sh) and synthetic 1k/10k/100k
// file trees; the copy fallback (DEST on /dev/shm: real EXDEV) vs `cp -r`; and
// end to end, seeded rebuild vs in-place incremental vs clean.
// All variants of a row run interleaved, round by round, in this one process:
// compare the ratios, not the absolute times (see shared notes/performance.md).
//
//   node bench/seed/bench.mjs [--work DIR] [--rounds N] [--quick] [--only TEXT]
// Writes bench/seed/results.json and prints markdown tables. --only keeps the
// rows whose name contains TEXT (e.g. `--only synthetic`) and then writes
// results-only.json instead, so a partial run never replaces the full results.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../..');
const arg = (name, def) => { const i = process.argv.indexOf(name); return i < 0 ? def : process.argv[i + 1]; };
const WORK = arg('--work', '/tmp/seedwrap-bench');
const QUICK = process.argv.includes('--quick');
const ROUNDS = Number(arg('--rounds', QUICK ? 3 : 9));
const ONLY = arg('--only', '');
const wanted = (name) => name.includes(ONLY);
const SHM = '/dev/shm/seedwrap-bench';
const RUSTC = existsSync(`${process.env.HOME}/.cargo/bin/rustc`) ? `${process.env.HOME}/.cargo/bin/rustc` : 'rustc';
const CRATES = ['itoa', 'serde_json', 'regex', 'syn'];

// ---- setup: crates, native baseline, bundled engine, synthetic trees
if (!CRATES.every((c) => existsSync(join(WORK, 'incr', c)))) execFileSync(join(here, 'build-crates.sh'), [WORK], { stdio: 'inherit' });
execFileSync('cargo', ['build', '--release', '--offline', '-q'], { cwd: join(repo, 'bench/native-seed'), stdio: 'inherit', env: { ...process.env, PATH: `${process.env.HOME}/.cargo/bin:${process.env.PATH}` } });
const NATIVE = join(repo, 'bench/native-seed/target/release/native-seed');
const engine = join(WORK, 'seed-engine.mjs');
await build({ entryPoints: [join(repo, 'src/seed/index.ts')], outfile: engine, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
const { seed } = await import(engine);

function synthetic(files) {
  const root = join(WORK, 'synthetic', `${files}`);
  if (existsSync(join(root, '.done'))) return root;
  rmSync(root, { recursive: true, force: true });
  for (let i = 0; i < files; i++) {
    const dir = join(root, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.bin`), Buffer.alloc(512 + (i % 16) * 256, i % 251)); // 0.5–4.3 KiB
  }
  writeFileSync(join(root, '.done'), '');
  return root;
}

// ---- timing helpers
const now = () => performance.now();
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
function timeCmd(cmd, args, opts = {}) {
  const t = now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  const ms = now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return ms;
}
async function timeSeed(src, dest, strategy, writable = false) {
  if (strategy) process.env.SEEDWRAP_SEED_STRATEGY = strategy; else delete process.env.SEEDWRAP_SEED_STRATEGY;
  const t = now();
  const report = await seed(src, dest, { minBytes: 0, writableWorkProducts: writable });
  const ms = now() - t;
  delete process.env.SEEDWRAP_SEED_STRATEGY;
  return { ms, report };
}
// Deleting a tree leaves dirty metadata that ext4 writes back while the next
// variant runs; sync(1) after every delete keeps one variant's clean-up out of
// the next one's time.
const clear = (p) => { rmSync(p, { recursive: true, force: true }); spawnSync('sync'); };

/**
 * Runs every variant once per round, interleaved, starting each round at the
 * next variant (so none always runs right after the same neighbour); returns
 * medians and the last seed report.
 */
async function row(name, variants, rounds = ROUNDS) {
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const entries = Object.entries(variants);
  let report;
  for (let r = 0; r < rounds; r++) {
    for (const [k, fn] of [...entries.slice(r % entries.length), ...entries.slice(0, r % entries.length)]) {
      const out = await fn();
      times[k].push(typeof out === 'number' ? out : out.ms);
      if (typeof out === 'object' && out.report && k === 'seed') report = out.report;
    }
  }
  const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, +median(v).toFixed(2)]));
  process.stderr.write(`${name}: ${JSON.stringify(med)}\n`);
  return { name, median: med, files: report?.files, linked: report?.linked, copied: report?.copied, strategy: report?.strategy, layout: report?.layout };
}

// ---- 1. hard links: seed vs cp -al vs native
const DEST = join(WORK, 'dest');
const linkTrees = [
  ...CRATES.map((c) => [`${c} incr dir`, join(WORK, 'incr', c)]),
  ['4 crates merged (mirror)', join(WORK, 'incr')],
  ...[1000, 10000, QUICK ? null : 100000].filter(Boolean).map((n) => [`synthetic ${n / 1000}k`, synthetic(n)]),
];
const linkRows = [];
for (const [name, src] of linkTrees.filter(([name]) => wanted(name))) {
  const big = name.includes('100k');
  const wrap = (fn) => async () => { clear(DEST); const v = await fn(); clear(DEST); return v; };
  linkRows.push(await row(name, {
    'cp -al': wrap(() => timeCmd('cp', ['-al', src, DEST])),
    native: wrap(() => timeCmd(NATIVE, [src, DEST, '2'])),
    seed: wrap(() => timeSeed(src, DEST)),
    ...(src.includes('/incr/') ? { 'seed --copy-seed': wrap(() => timeSeed(src, DEST, undefined, true)) } : {}), // no *.o elsewhere: the same work as seed
    sync: wrap(() => timeSeed(src, DEST, 'sync')),
    async: wrap(() => timeSeed(src, DEST, 'async')),
    threads: wrap(() => timeSeed(src, DEST, 'threads')),
  }, big ? Math.max(3, Math.round(ROUNDS / 3)) : ROUNDS));
}

// ---- 2. copy fallback: DEST on tmpfs, link(2) gives EXDEV
mkdirSync(SHM, { recursive: true });
const SHMDEST = join(SHM, 'dest');
const copyRows = [];
for (const [name, src] of [...CRATES.map((c) => [`${c} incr dir`, join(WORK, 'incr', c)]), ['synthetic 10k', synthetic(10000)]].filter(([name]) => wanted(`${name} → /dev/shm`))) {
  const wrap = (fn) => async () => { clear(SHMDEST); const v = await fn(); clear(SHMDEST); return v; };
  copyRows.push(await row(`${name} → /dev/shm`, {
    'cp -r': wrap(() => timeCmd('cp', ['-r', src, SHMDEST])),
    native: wrap(() => timeCmd(NATIVE, [src, SHMDEST, '2'])),
    seed: wrap(() => timeSeed(src, SHMDEST)),
    sync: wrap(() => timeSeed(src, SHMDEST, 'sync')),
    threads: wrap(() => timeSeed(src, SHMDEST, 'threads')),
  }, Math.min(ROUNDS, 5)));
}
clear(SHM);

// ---- 3. end to end: rustc after a one-line edit
const e2eRows = [];
for (const crate of CRATES.filter(wanted)) {
  const argv = readFileSync(join(WORK, 'cmd', crate), 'utf8').split('\n').filter(Boolean);
  const lib = join(WORK, 'src', crate, 'src/lib.rs');
  const original = readFileSync(lib, 'utf8');
  const e2e = join(WORK, 'e2e', crate);
  const seedDir = join(e2e, 'seed');
  clear(e2e);
  mkdirSync(e2e, { recursive: true });
  cpSync(join(WORK, 'incr', crate), seedDir, { recursive: true }); // the previous build's tree
  writeFileSync(lib, `${original}// e2e edit\n`);
  const rustc = (incr) => timeCmd(RUSTC, [...argv, '--out-dir', join(WORK, 'out', crate), ...(incr ? [`-Cincremental=${incr}`] : [])], { cwd: WORK });
  const incr = join(e2e, 'incr');
  try {
    e2eRows.push(await row(crate, {
      clean: () => rustc(null),
      'incremental, empty dir': () => { clear(incr); return rustc(incr); },
      'in-place incremental': () => { clear(incr); cpSync(seedDir, incr, { recursive: true }); return rustc(incr); },
      seeded: async () => { clear(incr); const s = await timeSeed(seedDir, incr, undefined, true); return { ms: s.ms + rustc(incr), report: s.report }; },
    }, Math.min(ROUNDS, crate === 'syn' ? 3 : 5)));
  } finally {
    writeFileSync(lib, original);
  }
}

const machine = { node: process.version, cpus: availableParallelism(), rustc: execFileSync(RUSTC, ['-V'], { encoding: 'utf8' }).trim(), date: new Date().toISOString(), rounds: ROUNDS };
writeFileSync(join(here, ONLY ? 'results-only.json' : 'results.json'), `${JSON.stringify({ machine, only: ONLY || undefined, linkRows, copyRows, e2eRows }, null, 1)}\n`);

// ---- markdown
const ratio = (a, b) => (a / b).toFixed(2);
const out = [];
out.push('| tree | files seeded | `cp -al` ms | native 2 threads | seed (links) | seed --copy-seed | sync | async | threads | auto chose |', '|---|---|---|---|---|---|---|---|---|---|');
for (const r of linkRows) {
  const m = r.median; const b = m['cp -al'];
  const own = m['seed --copy-seed'] === undefined ? 'same as seed' : `${ratio(m['seed --copy-seed'], b)}×`;
  out.push(`| ${r.name} | ${r.files} | ${b} | ${ratio(m.native, b)}× | **${ratio(m.seed, b)}×** | ${own} | ${ratio(m.sync, b)}× | ${ratio(m.async, b)}× | ${ratio(m.threads, b)}× | ${r.strategy} |`);
}
out.push('', '| copy fallback | files copied | `cp -r` ms | native 2 threads | seed | sync | threads |', '|---|---|---|---|---|---|---|');
for (const r of copyRows) {
  const m = r.median; const b = m['cp -r'];
  out.push(`| ${r.name} | ${r.copied} | ${b} | ${ratio(m.native, b)}× | **${ratio(m.seed, b)}×** | ${ratio(m.sync, b)}× | ${ratio(m.threads, b)}× |`);
}
out.push('', '| crate | clean ms | incremental, empty dir | in-place incremental | seeded (seed step + rustc) | seeded vs clean |', '|---|---|---|---|---|---|');
for (const r of e2eRows) {
  const m = r.median;
  out.push(`| ${r.name} | ${m.clean} | ${m['incremental, empty dir']} | ${m['in-place incremental']} | ${m.seeded} | **${ratio(m.seeded, m.clean)}×** |`);
}
if (!ONLY) writeFileSync(join(here, 'results.md'), `${out.join('\n')}\n`);
console.log(out.join('\n'));
