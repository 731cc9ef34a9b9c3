#!/usr/bin/env node
// The scale benchmark of issue 17: the workspace of bench/scale/generate.mjs
// (38 crates, 15 levels) built by Bazel 4.2.3 through seedwrap in the
// variants of bench/scale/variants.mjs, and by Cargo beside it, in
// alternating rounds. Each round: a cold build (bazel clean + emptied stores;
// a fresh target dir for Cargo), then four edits, each applied to every
// variant's copy before any of them builds:
//   bottom     body edit in unicode-ident (the bottom of the graph)
//   top        body edit in fp_api (the top library)
//   comment    comment appended to regex's lib.rs
//   signature  public signature change in fp_index (a middle crate)
// Bazel: linux-sandbox, pipelined (rules_rust_main flavor), --jobs=2, one warm
// server per variant (own copy of the workspace, own --output_user_root).
// Cargo: cargo build --offline -j2 --workspace --all-targets (same crates,
// same edits), CARGO_INCREMENTAL=1 and =0 into their own target dirs.
// The variant order rotates every round. Per Bazel build, from --profile:
// the critical path, and the summed time of RustcMetadata and Rustc actions.
//
//   npm run build
//   node bench/scale/run.mjs [--rounds 3] [--smoke] [--variants plain,store,...]
//        [--phases cold,bottom,top,comment,signature] [--breakdown [--breakdown-variants plain,store]]
//        [--out DIR] [--keep] [--wrapper FILE] [--external-wrapper FILE] [--action-cpu]
//
// CPU: per Bazel build, the server's cutime+cstime over the build (every
// action process it waited for, rustc included; the JVM's own work is not in
// it). Variants only selectable by name (bench/scale/variants.mjs):
// plain-off, plain-pipe (issue 17's one rustc per crate) and external (the
// same rules with the wrapper binary given by --external-wrapper FILE). With
// the wrapper's debug lines (RULES_RUST_PROCESS_WRAPPER_DEBUG=1 in the
// variant's env) each build also counts its metadata actions that took their
// rmeta, and lists from --profile when each crate's metadata action started
// against its full compile.
// --action-cpu: a Node preload (NODE_OPTIONS) in the seedwrap variants' compile
// actions logs each action's CPU (its own and its waited-for children's, from
// /proc/self/stat at exit) by crate and kind; a diagnostic (the preload costs
// CPU itself), not for the measured ratios.
//
// --breakdown: after the first round, the one-shot Bazel variants of
// --breakdown-variants (default plain,store) once more with the instruments of
// bench/scale/instrument.mjs (rustc and cc shims, a Node preload): a build
// (not measured), then a bottom edit, each action split into Node start,
// seedwrap's own work, namespace, rustc, link. The edit bumps only those
// workspaces; the next bottom edit brings every copy to the same text again.
// --smoke: the small workspace, one round. Results (md + json) are rewritten
// after every phase, so a run stopped early keeps what it measured.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EDITS, generate, realRustc, repo } from './generate.mjs';
import { readLogs, writeInstruments } from './instrument.mjs';
import { ALL_VARIANTS, VARIANTS } from './variants.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const smoke = argv.includes('--smoke');
const rounds = Number(opt('--rounds', smoke ? '1' : '3'));
const wanted = opt('--variants');
const variants = wanted ? wanted.split(',').map((n) => ALL_VARIANTS.find((v) => v.name === n) ?? fail(`unknown variant ${n}`)) : VARIANTS;
const PHASES = opt('--phases', 'cold,bottom,top,comment,signature').split(',');
const outDir = opt('--out', join(repo, 'bench/scale/results'));
const wrapper = opt('--wrapper', join(repo, 'dist/seedwrap.cjs'));
const externalWrapper = opt('--external-wrapper');
if (variants.some((v) => v.externalWrapper) && !externalWrapper) fail('the external variant needs --external-wrapper FILE');
const actionCpu = argv.includes('--action-cpu');
const COMMON = ['--jobs=2', '--color=no', '--curses=no', '--show_result=0'];

function fail(msg) {
  throw new Error(msg);
}
const uptime = () => spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!v.length) return undefined;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** Per-action spans and the critical path from a Bazel 4.2.3 --profile JSON trace. */
export function readProfile(file) {
  const data = JSON.parse(readFileSync(file, 'utf8'));
  const events = Array.isArray(data) ? data : (data.traceEvents ?? []);
  const actions = [];
  const critical = [];
  for (const e of events) {
    if (e.ph !== 'X') continue;
    const m = /^(?:Compiling|Running build script) (\S+)(?: \((\w+)\))?$/.exec(e.name ?? '');
    if (e.cat === 'action processing' && m) actions.push({ label: m[1], mnemonic: m[2] ?? 'CargoBuildScriptRun', ms: e.dur / 1000, start: e.ts / 1000 });
    if (e.cat === 'critical path component') critical.push({ name: e.name, ms: e.dur / 1000 });
  }
  const sum = (mn) => actions.filter((a) => a.mnemonic === mn).reduce((s, a) => s + a.ms, 0);
  return {
    actions,
    metaMs: sum('RustcMetadata'),
    fullMs: sum('Rustc'),
    metaCount: actions.filter((a) => a.mnemonic === 'RustcMetadata').length,
    fullCount: actions.filter((a) => a.mnemonic === 'Rustc').length,
    criticalMs: critical.reduce((s, c) => s + c.ms, 0),
    critical,
  };
}

const root = mkdtempSync(join(tmpdir(), 'seedwrap-scale-'));
const rustc = realRustc();
process.stderr.write(`bench/scale: working in ${root}\n`);

/** The Bazel server's children's CPU (cutime + cstime, USER_HZ 100) in seconds. */
function childCpu(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

/**
 * From a build's stderr (Bazel prints each action's stderr after "INFO: From
 * Compiling <label> (<mnemonic>):"), the wrapper's pipeline debug lines:
 * per crate, whether its metadata action took the rmeta and from where.
 */
export function readPipelineLines(stderr) {
  const crates = {};
  const reasons = {};
  let cur;
  for (const line of stderr.split('\n')) {
    const head = /^INFO: From Compiling (\S+) \((\w+)\):$/.exec(line);
    if (head) cur = head[2] === 'RustcMetadata' ? head[1] : undefined;
    else if (/^(INFO|WARNING|ERROR|DEBUG):/.test(line)) cur = undefined;
    if (!cur) continue;
    if (line.includes('pipeline: metadata action at')) crates[cur] ??= 'compiled itself';
    const why = /pipeline: compiling itself: (.*)$/.exec(line) ?? /(pipelining: .*)$/.exec(line);
    if (why) (reasons[cur] ??= []).push(why[1]);
    if (line.includes('pipeline: took the rmeta')) crates[cur] = line.includes('from the running full compile') ? 'live' : 'left message';
  }
  const v = Object.values(crates);
  return { crates, reasons, metas: v.length, live: v.filter((x) => x === 'live').length, left: v.filter((x) => x === 'left message').length };
}

/** Per crate with both actions in the build: the metadata action's start and end against its full compile's (ms). */
function pairTimes(actions) {
  const by = {};
  for (const a of actions) if (a.mnemonic === 'Rustc' || a.mnemonic === 'RustcMetadata') (by[a.label] ??= {})[a.mnemonic] = a;
  return Object.fromEntries(
    Object.entries(by)
      .filter(([, x]) => x.Rustc && x.RustcMetadata)
      .map(([label, x]) => [label, { metaAfterFullStart: Math.round(x.RustcMetadata.start - x.Rustc.start), fullMs: Math.round(x.Rustc.ms), metaMs: Math.round(x.RustcMetadata.ms) }]),
  );
}

function writeActionCpuPreload(file, log) {
  writeFileSync(
    file,
    `'use strict';
const argv = process.argv.slice(2);
if (!argv.includes('--persistent_worker')) {
  process.on('exit', () => {
    try {
      const fs = require('node:fs');
      const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
      const cpu = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
      const flat = argv.flatMap((a) => (a.startsWith('--crate-type=') || a.startsWith('--crate-name=') ? [a] : []));
      const i = argv.indexOf('--crate-type');
      const type = (flat.find((a) => a.startsWith('--crate-type=')) || '').slice(13) || (i >= 0 ? argv[i + 1] : '');
      const j = argv.indexOf('--crate-name');
      const crate = (flat.find((a) => a.startsWith('--crate-name=')) || '').slice(13) || (j >= 0 ? argv[j + 1] : '');
      fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ crate, type, meta: argv.includes('--rustc-quit-on-rmeta'), cpu }) + '\\n');
    } catch {}
  });
}
`,
  );
}

function bazelSide(v) {
  const ws = join(root, `ws-${v.name}`);
  const size = generate(ws, { smoke, wrapper: v.externalWrapper ? externalWrapper : wrapper, rustc });
  const userRoot = join(root, `ob-${v.name}`);
  const flags = [...v.flags, ...COMMON];
  if (v.wrapperFlags?.length) flags.push(`--//rust:scale_wrapper_flags=${v.wrapperFlags.join(',')}`);
  const baseEnv = [...(v.rustcEnv ?? [])];
  const pipeDir = v.pipelineDir ? join(root, `pipe-${v.name}`) : undefined;
  if (pipeDir) {
    mkdirSync(pipeDir, { mode: 0o700 });
    baseEnv.push(`SEEDWRAP_PIPELINE_DIR=${pipeDir}`);
  }
  const cpuLog = join(root, `action-cpu-${v.name}.log`);
  if (actionCpu && !v.externalWrapper) {
    const preload = join(root, `action-cpu-${v.name}.cjs`);
    writeActionCpuPreload(preload, cpuLog);
    baseEnv.push(`NODE_OPTIONS=--require=${preload}`);
  }
  let outputBase;
  let serverPid;
  const run = (args, extraEnv) => spawnSync('bazel', [`--output_user_root=${userRoot}`, '--max_idle_secs=3600', ...args], { cwd: ws, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, ...extraEnv } });
  let n = 0;
  return {
    v,
    ws,
    size,
    start() {
      const r = run(['build', '--nobuild', '//...', ...flags, ...(baseEnv.length ? [`--//rust:rustc_env=${baseEnv.join(',')}`] : [])]);
      if (r.status !== 0) fail(`${v.name}: analysis failed:\n${r.stderr}`);
      outputBase = run(['info', 'output_base']).stdout.trim();
      serverPid = Number(run(['info', 'server_pid']).stdout.trim());
      if (v.store) {
        mkdirSync(join(outputBase, v.store), { recursive: true });
        flags.push(`--sandbox_writable_path=${join(outputBase, v.store)}`);
      }
    },
    clean() {
      const r = run(['clean']);
      if (r.status !== 0) fail(`${v.name}: bazel clean failed:\n${r.stderr}`);
      // A cold build: no rmeta left by the last build's full compiles (a leaf
      // crate's message would still match its unchanged sources).
      if (pipeDir) for (const f of readdirSync(pipeDir)) rmSync(join(pipeDir, f), { force: true });
      for (const d of [v.store, ...(v.clear ?? [])].filter(Boolean)) {
        rmSync(join(outputBase, d), { recursive: true, force: true });
        if (d === v.store) mkdirSync(join(outputBase, d), { recursive: true });
      }
    },
    build(extra = { flags: [], rustcEnv: [] }) {
      const profile = join(root, `profile-${v.name}-${++n}.json`);
      const env = [...baseEnv, ...extra.rustcEnv];
      rmSync(cpuLog, { force: true });
      const cpu0 = childCpu(serverPid);
      const t0 = performance.now();
      const r = run(['build', '//...', `--profile=${profile}`, ...flags, ...extra.flags, ...(env.length ? [`--//rust:rustc_env=${env.join(',')}`] : [])]);
      const ms = performance.now() - t0;
      const cpu = childCpu(serverPid) - cpu0;
      if (r.status !== 0) fail(`${v.name}: build failed:\n${r.stderr.slice(-6000)}`);
      const p = readProfile(profile);
      rmSync(profile, { force: true });
      const pipeline = readPipelineLines(r.stderr);
      const pairs = pairTimes(p.actions);
      for (const [label, x] of Object.entries(pairs)) {
        x.taken = pipeline.crates[label] ?? (pipeline.metas ? 'no line' : undefined);
        if (pipeline.reasons[label]) x.why = pipeline.reasons[label].join('; ');
      }
      let actionCpuLog;
      if (actionCpu && existsSync(cpuLog)) actionCpuLog = readFileSync(cpuLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      return { ms, cpu, load: loadavg()[0], ...p, actions: undefined, topActions: p.actions.sort((a, b) => b.ms - a.ms).slice(0, 8), took: pipeline.metas ? pipeline : undefined, pairs, actionCpu: actionCpuLog };
    },
    shutdown: () => run(['shutdown']),
  };
}

function cargoSide(vs) {
  const ws = join(root, 'ws-cargo');
  const size = generate(ws, { smoke, wrapper, rustc });
  return vs.map((v) => {
    const target = join(root, `target-${v.name}`);
    const run = () =>
      spawnSync('cargo', ['build', '--offline', '-j2', '--workspace', '--all-targets', '--quiet'], {
        cwd: ws,
        encoding: 'utf8',
        maxBuffer: 256 << 20,
        // --cap-lints=warn: what the Bazel rules pass for every main-workspace crate
        // (serde 1.0.152 denies a lint rustc 1.95 raises).
        env: { ...process.env, ...v.env, CARGO_TARGET_DIR: target, RUSTC: rustc, RUSTFLAGS: '--cap-lints=warn', CARGO_TERM_COLOR: 'never' },
      });
    return {
      v,
      ws,
      size,
      start() {},
      clean: () => rmSync(target, { recursive: true, force: true }),
      build() {
        const t0 = performance.now();
        const r = run();
        const ms = performance.now() - t0;
        if (r.status !== 0) fail(`${v.name}: cargo build failed:\n${r.stderr.slice(-6000)}`);
        return { ms, load: loadavg()[0] };
      },
      shutdown() {},
    };
  });
}

// In the order of --variants (round 1 builds in this order; later rounds rotate it).
const cargoSides = cargoSide(variants.filter((v) => v.kind === 'cargo'));
const sides = variants.map((v) => (v.kind === 'cargo' ? cargoSides.find((c) => c.v === v) : bazelSide(v)));
// The workspaces that edits go to (the Cargo variants share one).
const workspaces = [...new Set(sides.map((s) => s.ws))];
const size = sides.find((x) => x.v.kind === 'bazel')?.size ?? sides[0].size;
const counts = Object.fromEntries(Object.keys(EDITS).map((k) => [k, 0]));
const results = Object.fromEntries(variants.map((v) => [v.name, Object.fromEntries(PHASES.map((p) => [p, []]))]));
const roundLoads = [];
const started = new Date();
const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).stdout.trim();
let breakdown;
const stamp = started.toISOString().replace(/[:.]/g, '-').slice(0, 19);
try {
  for (const s of sides) s.start();
  for (let r = 0; r < rounds; r++) {
    roundLoads.push({ round: r + 1, start: uptime() });
    const order = sides.map((_, i) => sides[(i + r) % sides.length]);
    for (const phase of PHASES) {
      if (phase === 'cold') for (const s of order) s.clean();
      else {
        counts[phase]++;
        for (const ws of workspaces) EDITS[phase].apply(ws, counts[phase], size);
      }
      for (const s of order) {
        const b = s.build();
        results[s.v.name][phase].push(b);
        process.stderr.write(`round ${r + 1} ${phase} ${s.v.name}: ${(b.ms / 1000).toFixed(2)} s${b.cpu !== undefined ? `, CPU ${b.cpu.toFixed(2)} s` : ''}${b.took ? `, metadata took ${b.took.live} live + ${b.took.left} left of ${b.took.metas}` : ''} (load ${b.load.toFixed(2)})${b.metaCount !== undefined ? ` meta ${b.metaCount}/${(b.metaMs / 1000).toFixed(1)} s, full ${b.fullCount}/${(b.fullMs / 1000).toFixed(1)} s, critical path ${(b.criticalMs / 1000).toFixed(1)} s` : ''}\n`);
      }
      writeReport(false);
    }
    roundLoads[r].end = uptime();
    // After the first round, so that a long run stopped early has it.
    if (r === 0 && argv.includes('--breakdown')) breakdown = runBreakdown();
    writeReport(false);
  }
  writeReport(true);
} finally {
  for (const s of sides) s.shutdown();
  if (!argv.includes('--keep')) {
    spawnSync('chmod', ['-R', 'u+w', root]);
    rmSync(root, { recursive: true, force: true });
  }
}

function runBreakdown() {
  const inst = writeInstruments(join(root, 'instruments'), rustc);
  const out = {};
  const only = opt('--breakdown-variants', 'plain,store');
  for (const s of sides.filter((x) => x.v.kind === 'bazel' && (!only || only.split(',').includes(x.v.name)))) {
    const extra = { flags: inst.flags, rustcEnv: inst.rustcEnv };
    s.build(extra); // the instruments change every command line: a full rebuild, not measured
    counts.bottom++;
    EDITS.bottom.apply(s.ws, counts.bottom, size);
    inst.reset();
    const b = s.build(extra);
    const recs = readLogs(join(root, 'instruments'));
    const part = (meta) => {
      const rs = recs.filter((x) => x.meta === meta);
      const keys = ['nodeStart', 'pre', 'probe', 'namespace', 'rustc', 'link', 'post', 'total'];
      return {
        n: rs.length,
        median: Object.fromEntries(keys.map((k) => [k, median(rs.map((x) => x[k]))])),
        sum: Object.fromEntries(keys.map((k) => [k, rs.reduce((a, x) => a + x[k], 0)])),
      };
    };
    out[s.v.name] = { build: { ms: b.ms, load: b.load, metaMs: b.metaMs, fullMs: b.fullMs, criticalMs: b.criticalMs, critical: b.critical }, meta: part(true), full: part(false) };
    process.stderr.write(`breakdown ${s.v.name}: ${JSON.stringify(out[s.v.name].full.median)}\n`);
  }
  return out;
}

// ---- report (rewritten after every phase: a run stopped early leaves what it measured) ----
function writeReport(final) {
  const sec = (ms) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);
  const ratio = (a, b) => (a !== undefined && b ? `${(a / b).toFixed(2)}×` : '–');
  const med = (name, phase, key = 'ms') => median((results[name]?.[phase] ?? []).map((b) => b[key]));
  const names = variants.map((v) => v.name);
  const bazelNames = variants.filter((v) => v.kind === 'bazel').map((v) => v.name);
  const base = names.includes('plain') ? 'plain' : undefined;
  const cargoBase = names.includes('cargo-incr') ? 'cargo-incr' : undefined;
  const allLoads = Object.values(results).flatMap((r) => Object.values(r).flat().map((b) => b.load));
  const count = (p) => size.crates.filter(p).length;
  const md = [];
  md.push(`# bench/scale results, ${started.toISOString()}`);
  md.push('');
  md.push(`Command: \`node bench/scale/run.mjs ${argv.join(' ')}\` (bench at ${head}, the wrapper is ${wrapper}, ${spawnSync(rustc, ['--version'], { encoding: 'utf8' }).stdout.trim()}).`);
  md.push(`Workspace: ${size.crates.length} crates (${count((c) => c.origin === 'debian')} Debian, ${count((c) => c.origin === 'first-party' && c.kind !== 'bin')} first-party libraries, ${count((c) => c.kind === 'proc-macro')} proc-macros, ${count((c) => c.buildScript)} build scripts, ${count((c) => c.kind === 'bin')} binaries, ${count((c) => c.test)} test), ${size.levels} levels.`);
  md.push(`${final ? rounds : `${roundLoads.length} of ${rounds}`} round(s)${final ? '' : ' (run in progress or stopped)'}, medians; 1-min load at the builds ${Math.min(...allLoads).toFixed(2)}–${Math.max(...allLoads).toFixed(2)}.`);
  for (const l of roundLoads) md.push(`- round ${l.round}: start \`${l.start}\`; end \`${l.end}\``);
  md.push('');
  md.push(`| variant | ${PHASES.join(' | ')} |`);
  md.push(`|---|${PHASES.map(() => '---').join('|')}|`);
  for (const n of names) md.push(`| ${n} | ${PHASES.map((p) => sec(med(n, p))).join(' | ')} |`);
  if (base) {
    md.push('');
    md.push(`Ratio to ${base} (whole build, medians):`);
    md.push('');
    md.push(`| variant | ${PHASES.join(' | ')} |`);
    md.push(`|---|${PHASES.map(() => '---').join('|')}|`);
    for (const n of names) md.push(`| ${n} ÷ ${base} | ${PHASES.map((p) => ratio(med(n, p), med(base, p))).join(' | ')} |`);
  }
  if (cargoBase) {
    md.push('');
    md.push(`Ratio to ${cargoBase} (Cargo's incremental build of the same workspace and edit):`);
    md.push('');
    md.push(`| variant | ${PHASES.join(' | ')} |`);
    md.push(`|---|${PHASES.map(() => '---').join('|')}|`);
    for (const n of names) md.push(`| ${n} ÷ ${cargoBase} | ${PHASES.map((p) => ratio(med(n, p), med(cargoBase, p))).join(' | ')} |`);
  }
  if (bazelNames.some((n) => PHASES.some((p) => med(n, p, 'cpu') !== undefined))) {
    md.push('');
    md.push("CPU of the whole build (the Bazel server's children's cutime+cstime over the build: every action, rustc included), medians; each build's value in brackets:");
    md.push('');
    md.push(`| variant | ${PHASES.join(' | ')} |`);
    md.push(`|---|${PHASES.map(() => '---').join('|')}|`);
    for (const n of bazelNames) md.push(`| ${n} | ${PHASES.map((p) => `${sec(med(n, p, 'cpu') * 1000)} [${results[n][p].map((b) => b.cpu?.toFixed(1)).join(', ')}]`).join(' | ')} |`);
    const pairsOf = [
      ['plain-pipe', 'plain-off'],
      ['plain-pipe', 'external'],
      ['plain-off', 'external'],
    ].filter(([x, y]) => bazelNames.includes(x) && bazelNames.includes(y));
    if (pairsOf.length) {
      md.push('');
      md.push('CPU ratios (medians; then wall):');
      md.push('');
      md.push(`| ratio | ${PHASES.map((p) => `${p} CPU | ${p} wall`).join(' | ')} |`);
      md.push(`|---|${PHASES.map(() => '---|---').join('|')}|`);
      for (const [x, y] of pairsOf) md.push(`| ${x} ÷ ${y} | ${PHASES.map((p) => `${ratio(med(x, p, 'cpu'), med(y, p, 'cpu'))} | ${ratio(med(x, p), med(y, p))}`).join(' | ')} |`);
    }
  }
  const withTook = bazelNames.filter((n) => PHASES.some((p) => results[n][p].some((b) => b.took)));
  if (withTook.length) {
    md.push('');
    md.push("Metadata actions that took their rmeta (the wrapper's debug lines): live from the running full compile + from the message a finished one left, of all metadata actions, per build:");
    md.push('');
    for (const n of withTook) for (const p of PHASES) md.push(`- ${n}, ${p}: ${results[n][p].map((b) => (b.took ? `${b.took.live} + ${b.took.left} of ${b.took.metas}` : '–')).join('; ')}`);
    md.push('');
    md.push('Metadata actions that compiled themselves, last build of each phase (start after its full compile\'s start, ms; full compile\'s duration):');
    md.push('');
    for (const n of withTook) {
      for (const p of PHASES) {
        const last = results[n][p].at(-1);
        if (!last?.pairs) continue;
        const own = Object.entries(last.pairs).filter(([, x]) => x.taken === 'compiled itself');
        md.push(`- ${n}, ${p}: ${own.map(([l, x]) => `${l} ${x.metaAfterFullStart >= 0 ? '+' : ''}${x.metaAfterFullStart} (full ${x.fullMs}${x.why ? `; ${x.why}` : ''})`).join('; ') || 'none'}`);
      }
    }
  }
  const withCpuLog = bazelNames.filter((n) => PHASES.some((p) => results[n][p].some((b) => b.actionCpu)));
  if (withCpuLog.length) {
    md.push('');
    md.push('--action-cpu (diagnostic, the preload included): CPU of the compile actions by kind, summed over the last build of each phase (count); the rest of the whole build is the build-script runs and anything else:');
    md.push('');
    const KINDS = ['metadata', 'full library', 'proc-macro', 'build script compile', 'binary'];
    md.push(`| variant | phase | whole build | ${KINDS.join(' | ')} | rest |`);
    md.push(`|---|---|---|${KINDS.map(() => '---').join('|')}|---|`);
    const kindOf = (x) => (x.meta ? 'metadata' : x.type === 'proc-macro' ? 'proc-macro' : x.type === 'bin' ? (x.crate === 'build_script_build' ? 'build script compile' : 'binary') : 'full library');
    for (const n of withCpuLog) {
      for (const p of PHASES) {
        const last = results[n][p].at(-1);
        if (!last?.actionCpu) continue;
        const sums = Object.fromEntries(KINDS.map((k) => [k, { cpu: 0, n: 0 }]));
        for (const x of last.actionCpu) {
          sums[kindOf(x)].cpu += x.cpu;
          sums[kindOf(x)].n++;
        }
        const all = last.actionCpu.reduce((t, x) => t + x.cpu, 0);
        md.push(`| ${n} | ${p} | ${last.cpu.toFixed(2)} s | ${KINDS.map((k) => `${sums[k].cpu.toFixed(2)} s (${sums[k].n})`).join(' | ')} | ${(last.cpu - all).toFixed(2)} s |`);
      }
    }
  }
  md.push('');
  md.push('Bazel, from --profile (medians): RustcMetadata actions summed (count), Rustc actions summed (count), critical path; ratios to plain.');
  md.push('');
  md.push('| variant | phase | metadata | full | critical path | metadata ÷ plain | full ÷ plain | critical ÷ plain |');
  md.push('|---|---|---|---|---|---|---|---|');
  for (const n of bazelNames) {
    for (const p of PHASES) {
      md.push(
        `| ${n} | ${p} | ${sec(med(n, p, 'metaMs'))} (${med(n, p, 'metaCount')}) | ${sec(med(n, p, 'fullMs'))} (${med(n, p, 'fullCount')}) | ${sec(med(n, p, 'criticalMs'))} | ${base ? ratio(med(n, p, 'metaMs'), med(base, p, 'metaMs')) : '–'} | ${base ? ratio(med(n, p, 'fullMs'), med(base, p, 'fullMs')) : '–'} | ${base ? ratio(med(n, p, 'criticalMs'), med(base, p, 'criticalMs')) : '–'} |`,
      );
    }
  }
  md.push('');
  md.push('Critical path of the last round, per variant and phase (components over 100 ms):');
  md.push('');
  for (const n of bazelNames) {
    for (const p of PHASES) {
      const last = results[n][p].at(-1);
      if (!last?.critical) continue;
      md.push(`- ${n}, ${p}: ${last.critical.filter((c) => c.ms >= 100).map((c) => `${c.name.replace(/^action '|'$/g, '')} ${(c.ms / 1000).toFixed(2)}`).join('; ')}`);
    }
  }
  if (breakdown) {
    md.push('');
    md.push('Breakdown (--breakdown: one instrumented rebuild after a bottom edit per variant; per-action medians in ms, then sums in s):');
    md.push('');
    md.push('| variant | actions | n | Node start | seedwrap before rustc | (of it: namespace probe) | namespace + exec | rustc | link | seedwrap after rustc | process total | sum rustc | sum link | sum seedwrap own |');
    md.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    const f = (x) => (x === undefined ? '–' : x.toFixed(0));
    for (const [n, b] of Object.entries(breakdown)) {
      for (const kind of ['meta', 'full']) {
        const m = b[kind].median;
        const s = b[kind].sum;
        md.push(`| ${n} | ${kind === 'meta' ? 'RustcMetadata' : 'Rustc'} | ${b[kind].n} | ${f(m.nodeStart)} | ${f(m.pre)} | ${f(m.probe)} | ${f(m.namespace)} | ${f(m.rustc)} | ${f(m.link)} | ${f(m.post)} | ${f(m.total)} | ${sec(s.rustc)} | ${sec(s.link)} | ${sec(s.nodeStart + s.pre + s.namespace + s.post)} |`);
      }
    }
  }
  const report = `${md.join('\n')}\n`;
  if (final) process.stdout.write(report);
  mkdirSync(outDir, { recursive: true });
  const base_ = join(outDir, `${smoke ? 'smoke' : 'scale'}-${stamp}`);
  writeFileSync(`${base_}.md`, report);
  writeFileSync(`${base_}.json`, `${JSON.stringify({ started, argv, rounds, smoke, crates: size.crates, levels: size.levels, roundLoads, variants, results, breakdown }, null, 1)}\n`);
  if (final) process.stderr.write(`bench/scale: wrote ${base_}.md and .json\n`);
}
