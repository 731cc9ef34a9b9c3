#!/usr/bin/env node
// examples/bazel's //app, one-shot vs seedwrap's persistent worker (issue 5).
//
//   npm run build && node bench/worker/example-bazel.mjs [--rounds 3] [--no-local] [--wrapper FILE] [--out FILE.md]
//
// Configurations, each on its own fresh copy of the workspace and its own
// output root (so its own warm Bazel server), seeding on with
// --//rust:seed_min_mb=0 and --jobs=2:
//   one-shot            --//rust:worker=false (Bazel's default strategy:
//                       linux-sandbox for the compiles, with --stable-cwd)
//   one-shot, local     --//rust:worker=true --strategy=Rustc=local
//                       --strategy=RustcMetadata=local (the worker-style
//                       action run one-shot, unsandboxed: separates the
//                       sandbox's cost from the worker's; --no-local drops it)
//   worker              --//rust:worker=true --strategy=Rustc=worker
//                       --strategy=RustcMetadata=worker
// Per round, configuration after configuration (so the load of a shared
// machine spreads over all of them): `bazel clean`, analysis (untimed), a
// timed cold build, a comment appended to vendor/regex/src/lib.rs, a timed
// rebuild. Medians over the rounds; ratio = worker / one-shot. Then, per
// configuration, one more comment edit and a rebuild with
// -Zassert-incr-state=loaded on every main-workspace Rustc action (success:
// rustc loaded its seed), with the execution log read for the runners.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleWorkspace, hasFlag, option, wrapperUnderTest } from '../bazel/example-workspace.mjs';

const wrapper = wrapperUnderTest();
const out = option('--out');
const ROUNDS = Number(option('--rounds', '3'));

function findRustc() {
  for (const p of [process.env.RUSTC, '/root/.cargo/bin/rustc']) if (p && existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v rustc'], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  throw new Error('rustc not found (set RUSTC)');
}
const rustc = findRustc();

const WORKER = ['--//rust:worker=true', '--strategy=Rustc=worker', '--strategy=RustcMetadata=worker'];
const CONFIGS = [
  { name: 'one-shot', flags: ['--//rust:worker=false'] },
  ...(hasFlag('--no-local') ? [] : [{ name: 'one-shot, local', flags: ['--//rust:worker=true', '--strategy=Rustc=local', '--strategy=RustcMetadata=local'] }]),
  { name: 'worker', flags: WORKER },
];
const ASSERT_LOADED = '--//rust:extra_rustc_flags=-Zassert-incr-state=loaded';

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/** Bazel 4.2.3's JSON execution log: objects back to back, split at depth 0. */
function spawnsOf(file) {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const spawns = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) spawns.push(JSON.parse(text.slice(start, i + 1)));
  }
  return spawns;
}

/** Live seedwrap worker processes whose cwd lies under this output root. */
function workersUnder(root) {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--persistent_worker')) continue;
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(root)) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

function workspace(config) {
  const { ws, root, bazel } = exampleWorkspace(wrapper, 'seedwrap-wbench');
  const flags = [
    ...config.flags,
    '--jobs=2',
    '--//rust:seed_min_mb=0',
    `--//rust:rustc=${rustc}`,
    // Only -Zassert-incr-state needs it; constant, so every build's keys match.
    '--//rust:rustc_env=RUSTC_BOOTSTRAP=1',
  ];
  let n = 0;
  let edits = 0;
  const must = (r, what) => {
    if (r.status !== 0) throw new Error(`${config.name}: ${what} failed:\n${r.stderr.slice(-6000)}`);
    return r;
  };
  return {
    config,
    root,
    analyse: () => must(bazel('build', '--nobuild', '//app', '--color=no', '--curses=no', ...flags), 'analysis'),
    clean: () => must(bazel('clean'), 'bazel clean'),
    build(...extra) {
      const t0 = performance.now();
      const r = bazel('build', '//app', '--color=no', '--curses=no', ...flags, ...extra);
      const ms = Math.round(performance.now() - t0);
      return { ok: r.status === 0, ms, output: r.stderr };
    },
    timed(...extra) {
      const r = this.build(...extra);
      if (!r.ok) throw new Error(`${config.name}: build failed:\n${r.output.slice(-6000)}`);
      return r.ms;
    },
    logged(...extra) {
      const log = join(root, `exec-${++n}.json`);
      const r = this.build(`--execution_log_json_file=${log}`, ...extra);
      return { ...r, spawns: spawnsOf(log) };
    },
    edit: () => appendFileSync(join(ws, 'vendor/regex/src/lib.rs'), `\n// comment edit ${++edits}\n`),
    dispose() {
      bazel('shutdown');
      spawnSync('chmod', ['-R', 'u+w', root]);
      rmSync(root, { recursive: true, force: true });
      rmSync(ws, { recursive: true, force: true });
    },
  };
}

const spaces = CONFIGS.map(workspace);
const results = spaces.map((w) => ({ name: w.config.name, cold: [], rebuild: [], workersAfterClean: [] }));
try {
  for (const w of spaces) w.analyse(); // server start and loading: untimed
  for (let round = 1; round <= ROUNDS; round++) {
    spaces.forEach((w, i) => {
      w.clean();
      results[i].workersAfterClean.push(workersUnder(w.root));
      w.analyse();
      const cold = w.timed();
      w.edit();
      const rebuild = w.timed();
      results[i].cold.push(cold);
      results[i].rebuild.push(rebuild);
      process.stderr.write(`round ${round} ${w.config.name}: cold ${cold} ms, rebuild ${rebuild} ms\n`);
    });
  }
  spaces.forEach((w, i) => {
    w.edit();
    const r = w.logged(ASSERT_LOADED);
    const rustcSpawns = r.spawns.filter((s) => s.mnemonic === 'Rustc' || s.mnemonic === 'RustcMetadata');
    const runners = [...new Set(rustcSpawns.map((s) => `${s.mnemonic}=${s.runner}`))].sort();
    const seedRunners = [...new Set(r.spawns.filter((s) => /IncrSeed$/.test(s.mnemonic)).map((s) => s.runner))];
    results[i].loaded = r.ok && !r.output.includes('asserted that an existing incremental cache');
    results[i].loadedRustc = r.spawns.filter((s) => s.mnemonic === 'Rustc').length;
    results[i].runners = runners.join(', ');
    results[i].seedRunners = seedRunners.join(', ');
    results[i].workers = workersUnder(w.root);
    if (!results[i].loaded) process.stderr.write(`${w.config.name}: -Zassert-incr-state=loaded build failed:\n${r.output.slice(-4000)}\n`);
  });
} finally {
  for (const w of spaces) w.dispose();
}

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const base = results.find((r) => r.name === 'one-shot');
const lines = [
  `| configuration | cold build, median of ${ROUNDS} | rebuild after a comment edit, median of ${ROUNDS} | cold / one-shot | rebuild / one-shot | runner of the check build's compiles | check build: rustc loaded the seeds |`,
  '|---|---|---|---|---|---|---|',
];
for (const r of results) {
  const cold = median(r.cold);
  const rebuild = median(r.rebuild);
  lines.push(
    `| ${r.name} | ${s(cold)} (${r.cold.map((x) => (x / 1000).toFixed(1)).join(' / ')}) | ${s(rebuild)} (${r.rebuild.map((x) => (x / 1000).toFixed(1)).join(' / ')}) | ${(cold / median(base.cold)).toFixed(2)}× | ${(rebuild / median(base.rebuild)).toFixed(2)}× | ${r.runners} | ${r.loaded ? `yes (${r.loadedRustc} Rustc actions)` : 'NO'} |`,
  );
}
const notes = results.map((r) => `- ${r.name}: seed actions ran as ${r.seedRunners || '?'}; worker processes alive after each \`bazel clean\`: ${r.workersAfterClean.join(', ')}; at the end: ${r.workers}`);
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const report = `${lines.join('\n')}\n\n${notes.join('\n')}\n- load average at the end: ${load}; rustc: ${rustc}\n`;
process.stdout.write(report);
if (out) writeFileSync(out, report);
