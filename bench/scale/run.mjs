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
//        [--out DIR] [--keep] [--wrapper FILE]
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
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EDITS, generate, realRustc, repo } from './generate.mjs';
import { readLogs, writeInstruments } from './instrument.mjs';
import { VARIANTS } from './variants.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const smoke = argv.includes('--smoke');
const rounds = Number(opt('--rounds', smoke ? '1' : '3'));
const wanted = opt('--variants');
const variants = wanted ? wanted.split(',').map((n) => VARIANTS.find((v) => v.name === n) ?? fail(`unknown variant ${n}`)) : VARIANTS;
const PHASES = opt('--phases', 'cold,bottom,top,comment,signature').split(',');
const outDir = opt('--out', join(repo, 'bench/scale/results'));
const wrapper = opt('--wrapper', join(repo, 'dist/seedwrap.cjs'));
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
    if (e.cat === 'action processing' && m) actions.push({ label: m[1], mnemonic: m[2] ?? 'CargoBuildScriptRun', ms: e.dur / 1000 });
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

function bazelSide(v) {
  const ws = join(root, `ws-${v.name}`);
  const size = generate(ws, { smoke, wrapper, rustc });
  const userRoot = join(root, `ob-${v.name}`);
  const flags = [...v.flags, ...COMMON];
  if (v.wrapperFlags?.length) flags.push(`--//rust:scale_wrapper_flags=${v.wrapperFlags.join(',')}`);
  let outputBase;
  const run = (args, extraEnv) => spawnSync('bazel', [`--output_user_root=${userRoot}`, '--max_idle_secs=3600', ...args], { cwd: ws, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, ...extraEnv } });
  let n = 0;
  return {
    v,
    ws,
    size,
    start() {
      const r = run(['build', '--nobuild', '//...', ...flags, ...(v.rustcEnv?.length ? [`--//rust:rustc_env=${v.rustcEnv.join(',')}`] : [])]);
      if (r.status !== 0) fail(`${v.name}: analysis failed:\n${r.stderr}`);
      outputBase = run(['info', 'output_base']).stdout.trim();
      if (v.store) {
        mkdirSync(join(outputBase, v.store), { recursive: true });
        flags.push(`--sandbox_writable_path=${join(outputBase, v.store)}`);
      }
    },
    clean() {
      const r = run(['clean']);
      if (r.status !== 0) fail(`${v.name}: bazel clean failed:\n${r.stderr}`);
      for (const d of [v.store, ...(v.clear ?? [])].filter(Boolean)) {
        rmSync(join(outputBase, d), { recursive: true, force: true });
        if (d === v.store) mkdirSync(join(outputBase, d), { recursive: true });
      }
    },
    build(extra = { flags: [], rustcEnv: [] }) {
      const profile = join(root, `profile-${v.name}-${++n}.json`);
      const env = [...(v.rustcEnv ?? []), ...extra.rustcEnv];
      const t0 = performance.now();
      const r = run(['build', '//...', `--profile=${profile}`, ...flags, ...extra.flags, ...(env.length ? [`--//rust:rustc_env=${env.join(',')}`] : [])]);
      const ms = performance.now() - t0;
      if (r.status !== 0) fail(`${v.name}: build failed:\n${r.stderr.slice(-6000)}`);
      const p = readProfile(profile);
      rmSync(profile, { force: true });
      return { ms, load: loadavg()[0], ...p, actions: undefined, topActions: p.actions.sort((a, b) => b.ms - a.ms).slice(0, 8) };
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
        process.stderr.write(`round ${r + 1} ${phase} ${s.v.name}: ${(b.ms / 1000).toFixed(2)} s (load ${b.load.toFixed(2)})${b.metaCount !== undefined ? ` meta ${b.metaCount}/${(b.metaMs / 1000).toFixed(1)} s, full ${b.fullCount}/${(b.fullMs / 1000).toFixed(1)} s, critical path ${(b.criticalMs / 1000).toFixed(1)} s` : ''}\n`);
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
