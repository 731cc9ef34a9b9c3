#!/usr/bin/env node
// `seedwrap seed SRC DEST --json` as a whole process against `cp -al SRC DEST`,
// on trees of several shapes, side by side, in interleaved rounds, `sync(1)`
// after every delete. Per run: wall time (spawn to exit), the in-process time
// (the `ms` of --json: no Node start-up, no exit), CPU (user + sys) and max
// RSS (both from GNU time, which wraps every variant alike). Ratios are taken
// per round against that round's `cp -al` and summarised as median and range:
// on a shared machine the load changes between rounds, not within one.
//
//   node bench/seed/shapes.mjs [--work DIR] [--rounds N] [--only TEXT]
//        [--bundle FILE]... [--env NAME=VALUE]... [--seed-prev-dir]
// Shapes:
//   flat 100k    d{i/100}/f{i}.bin, 1,000 directories of 100 files written one
//                directory after the other (bench.mjs's synthetic 100k tree)
//   nested 100k  a{i%100}/b{(i/100)%10}/f{i}, 0-4 KiB, 1,100 directories two
//                levels deep, written in that interleaved order (issue 12)
//   <crate> incr the real incremental dirs of build-crates.sh (itoa, serde_json,
//                regex, syn), and their parent (mirrored: not a rustc layout)
// Each --bundle is a seedwrap executable run through its own shebang, as Bazel
// and scripts run it (default dist/seedwrap.cjs); give two (e.g. a build of
// the previous commit) for a before/after in the same rounds. --env adds a
// variant per bundle with that variable set (e.g. SEEDWRAP_SEED_STRATEGY=sync).
// --seed-prev-dir adds the wrapper's per-action seeding (`--seed-prev-dir SRC
// DEST --exit-early true`, links only) per bundle: `seedwrap seed` gives every
// *.o of a rustc layout its own inode (a byte copy on ext4), which `cp -al`
// does not, so on the real incremental dirs only this variant does cp's work.
// Writes bench/seed/results-shapes.json (results-shapes-only.json with --only)
// and prints a markdown table; the load average is sampled before every round.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../..');
const argv = process.argv.slice(2);
const arg = (name, def) => { const i = argv.indexOf(name); return i < 0 ? def : argv[i + 1]; };
const args = (name) => argv.flatMap((a, i) => (a === name ? [argv[i + 1]] : []));
const WORK = arg('--work', '/tmp/seedwrap-bench');
const ROUNDS = Number(arg('--rounds', 7));
const ONLY = arg('--only', '');
const BUNDLES = args('--bundle').length > 0 ? args('--bundle') : [join(repo, 'dist/seedwrap.cjs')];
const ENVS = args('--env');
const CRATES = ['itoa', 'serde_json', 'regex', 'syn'];

// ---- trees
function flat(files) {
  const root = join(WORK, 'synthetic', `${files}`);
  if (existsSync(join(root, '.done'))) return root; // bench.mjs's tree: same files, same order
  rmSync(root, { recursive: true, force: true });
  for (let i = 0; i < files; i++) {
    const dir = join(root, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.bin`), Buffer.alloc(512 + (i % 16) * 256, i % 251));
  }
  writeFileSync(join(root, '.done'), '');
  return root;
}

function nested(files) {
  const root = join(WORK, 'synthetic', `nested-${files}`);
  const done = `${root}.done`; // beside the tree, so the tree holds exactly `files` files
  if (existsSync(done)) return root;
  rmSync(root, { recursive: true, force: true });
  for (let i = 0; i < files; i++) {
    const dir = `${root}/a${i % 100}/b${Math.floor(i / 100) % 10}`;
    if (i < 1000) mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/f${i}`, Buffer.alloc(i % 4097, i % 251));
  }
  writeFileSync(done, '');
  return root;
}

const shapes = [];
if ('flat 100k'.includes(ONLY) || ONLY === '') shapes.push(['flat 100k', () => flat(100_000)]);
if ('nested 100k'.includes(ONLY) || ONLY === '') shapes.push(['nested 100k', () => nested(100_000)]);
const crateShapes = [...CRATES.map((c) => [`${c} incr`, () => join(WORK, 'incr', c)]), ['4 crates merged', () => join(WORK, 'incr')]];
for (const s of crateShapes) if (s[0].includes(ONLY)) shapes.push(s);
if (shapes.some(([n]) => n.includes('incr') || n.includes('crates')) && !CRATES.every((c) => existsSync(join(WORK, 'incr', c)))) {
  execFileSync(join(here, 'build-crates.sh'), [WORK], { stdio: 'inherit' });
}

// ---- one timed process
const TIMEFILE = join(WORK, 'gnu-time.txt');
function timed(cmd, cmdArgs, env) {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', TIMEFILE, cmd, ...cmdArgs], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const [user, sys, rssKiB] = readFileSync(TIMEFILE, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const json = r.stdout.startsWith('{') ? JSON.parse(r.stdout) : undefined;
  // The wrapper's debug line: `--seed-prev-dir SRC DEST: seeded, N linked, M copied, B bytes, X ms (strategy)`.
  const line = /: seeded, (\d+) linked, (\d+) copied, \d+ bytes, ([\d.]+) ms \((\w+)\)/.exec(r.stderr);
  const fromLine = line ? { inproc: Number(line[3]), strategy: line[4], files: Number(line[1]) + Number(line[2]) } : {};
  return { wall, cpu: (user + sys) * 1000, rssMiB: rssKiB / 1024, inproc: json?.ms, strategy: json?.strategy, files: json?.files, ...fromLine };
}

const DEST = join(WORK, 'dest-shapes');
const clear = () => { rmSync(DEST, { recursive: true, force: true }); spawnSync('sync'); };
const baseEnv = { ...process.env };
delete baseEnv.SEEDWRAP_SEED_STRATEGY;
delete baseEnv.NODE_OPTIONS;
delete baseEnv.NODE_EXTRA_CA_CERTS; // Node 20 parses it at start-up (docs/benchmarks-startup.md); a Bazel action does not get it

const variants = [['cp -al', (src) => timed('cp', ['-al', src, DEST], baseEnv)]];
const PREV = argv.includes('--seed-prev-dir');
for (const [b, bundle] of BUNDLES.entries()) {
  const label = BUNDLES.length === 1 ? 'seed' : `seed#${b} ${basename(bundle)}`;
  variants.push([label, (src) => timed(bundle, ['seed', src, DEST, '--json'], baseEnv)]);
  // --seed-prev-dir: the per-action form, which hard-links every file (`seedwrap seed` copies each
  // *.o of a rustc layout, as --copy-seed does: rustc rewrites them); its time from the debug line.
  if (PREV) {
    const prevArgs = (src) => ['--seed-prev-dir', src, DEST, '--seed-min-mb', '0', '--exit-early', 'true', '--', '/bin/true'];
    variants.push([`${label} --seed-prev-dir`, (src) => timed(bundle, prevArgs(src), { ...baseEnv, RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' })]);
  }
  for (const e of ENVS) {
    const [k, v] = e.split('=');
    variants.push([`${label} ${e}`, (src) => timed(bundle, ['seed', src, DEST, '--json'], { ...baseEnv, [k]: v })]);
  }
}

// ---- rounds
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const range = (xs) => [Math.min(...xs), Math.max(...xs)];
const rows = [];
for (const [name, make] of shapes) {
  const src = make();
  spawnSync('sync');
  const runs = Object.fromEntries(variants.map(([k]) => [k, []]));
  const loads = [];
  for (let r = 0; r < ROUNDS; r++) {
    loads.push(loadavg()[0]);
    const order = [...variants.slice(r % variants.length), ...variants.slice(0, r % variants.length)];
    for (const [k, fn] of order) {
      clear();
      runs[k].push(fn(src));
    }
    clear();
  }
  const cp = runs['cp -al'];
  const out = { name, src, loads, variants: {} };
  for (const [k] of variants) {
    const rs = runs[k];
    const per = (f) => rs.map((x, i) => f(x) / cp[i].wall);
    const v = {
      wallMs: +median(rs.map((x) => x.wall)).toFixed(1),
      cpuMs: +median(rs.map((x) => x.cpu)).toFixed(0),
      maxRssMiB: +Math.max(...rs.map((x) => x.rssMiB)).toFixed(1),
      wholeRatio: +median(per((x) => x.wall)).toFixed(2),
      wholeRange: range(per((x) => x.wall)).map((x) => +x.toFixed(2)),
      cpuRatio: cp.some((x) => x.cpu === 0) ? null : +median(rs.map((x, i) => x.cpu / cp[i].cpu)).toFixed(2), // GNU time counts in 10 ms
    };
    if (rs[0].inproc !== undefined) {
      Object.assign(v, {
        inprocMs: +median(rs.map((x) => x.inproc)).toFixed(1),
        inprocRatio: +median(per((x) => x.inproc)).toFixed(2),
        inprocRange: range(per((x) => x.inproc)).map((x) => +x.toFixed(2)),
        strategies: [...new Set(rs.map((x) => x.strategy))],
        files: rs[0].files,
      });
    }
    out.variants[k] = v;
  }
  rows.push(out);
  process.stderr.write(`${name}: ${JSON.stringify(out.variants)} load ${loads.map((l) => l.toFixed(1)).join(' ')}\n`);
}

const machine = { node: process.version, cpus: availableParallelism(), date: new Date().toISOString(), rounds: ROUNDS, bundles: BUNDLES, command: `node bench/seed/shapes.mjs ${argv.join(' ')}`.trim() };
writeFileSync(join(here, ONLY ? 'results-shapes-only.json' : 'results-shapes.json'), `${JSON.stringify({ machine, rows }, null, 1)}\n`);

const lines = [
  `${machine.date}, ${machine.command}; ${ROUNDS} rounds; medians of per-round ratios to \`cp -al\` (range in brackets)`,
  '',
  '| tree | variant | files | `cp -al` ms | in-process (`ms` of --json) | whole process | CPU | max RSS | strategy | load (1-min, per round) |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const cp = r.variants['cp -al'];
  for (const [k, v] of Object.entries(r.variants)) {
    if (k === 'cp -al') continue;
    lines.push(`| ${r.name} | ${k} | ${v.files} | ${cp.wallMs} | **${v.inprocRatio}×** (${v.inprocRange.join('–')}) | **${v.wholeRatio}×** (${v.wholeRange.join('–')}) | ${v.cpuRatio === null ? '—' : `${v.cpuRatio}×`} | ${v.maxRssMiB} MiB (cp ${cp.maxRssMiB}) | ${v.strategies.join(', ')} | ${range(r.loads).map((l) => l.toFixed(1)).join('–')} |`);
  }
}
console.log(lines.join('\n'));
