// The worker's one rustc per crate in real Bazel: //app of a copy of
// examples/bazel, rules_rust_main flavor, --jobs=2, warm server. Per mode and
// round: `bazel clean`, a cold build, a body edit in the bottom crate
// (memchr: its dependents aho-corasick, regex and app re-run), a rebuild.
// rustc runs behind a script that logs each start, so every build reports how
// many rustc processes it ran. Modes, interleaved round by round:
//   plain          linux-sandbox, no -Cincremental (rules_rust's default)
//   worker+store   multiplex workers with --worker-incremental-dir auto, one rustc per crate
//   worker+store, off   the same with SEEDWRAP_PIPELINE=off (both requests run rustc)
//
//   node bench/pipelining-a/worker-bazel.mjs [ROUNDS=2]
import { chmodSync, existsSync, lstatSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { exampleWorkspace, wrapperUnderTest } from '../bazel/example-workspace.mjs';

const rounds = Number(process.argv[2] ?? 2);
const { ws, root, bazel } = exampleWorkspace(wrapperUnderTest(), 'seedwrap-bench-wpipe');
const log = join(root, 'rustc-runs.log');
const tool = join(root, 'rustc');
writeFileSync(tool, `#!/bin/sh\necho "$$" >> '${log}'\nexec '${join(homedir(), '.cargo/bin/rustc')}' "$@"\n`);
chmodSync(tool, 0o755);
const runs = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0);
const bottom = join(ws, 'vendor/memchr/src/lib.rs');
if (lstatSync(bottom).isSymbolicLink()) throw new Error(`${bottom} is a symlink: refusing to edit`);
const original = readFileSync(bottom, 'utf8');

const MODES = {
  plain: ['--spawn_strategy=linux-sandbox'],
  'worker+store': ['--//rust:worker=true', '--strategy=Rustc=worker', '--strategy=RustcMetadata=worker', '--//rust:worker_startup_flags=--worker-incremental-dir,auto'],
  'worker+store, off': ['--//rust:worker=true', '--strategy=Rustc=worker', '--strategy=RustcMetadata=worker', '--//rust:worker_startup_flags=--worker-incremental-dir,auto', '--//rust:rustc_env=SEEDWRAP_PIPELINE=off'],
};
let edits = 0;
function build(mode) {
  const flags = ['--//rust:flavor=rules_rust_main', `--//rust:rustc=${tool}`, '--jobs=2', '--color=no', '--curses=no', '--nosandbox_debug', ...MODES[mode]];
  const once = () => {
    const n0 = runs();
    const t0 = performance.now();
    const r = bazel('build', '//app', ...flags);
    // SEEDWRAP_PIPELINE=off in a non-sandboxed worker is upstream's behaviour, which can fail on a
    // rebuild (rustc: "output file … is not writeable", as rules_rust with --spawn_strategy=local).
    if (r.status !== 0) console.error(`${mode}: build failed: ${r.stderr.split('\n').find((l) => l.startsWith('error')) ?? r.stderr.slice(-500)}`);
    return { wall: performance.now() - t0, rustc: runs() - n0, failed: r.status !== 0 };
  };
  bazel('clean');
  const cold = once();
  // A body edit: the same private function, another value each time.
  writeFileSync(bottom, `${original}\n#[allow(dead_code)]\nfn seedwrap_bench_edit() -> u32 { ${++edits} }\n`);
  const edit = once();
  return { cold, edit };
}

const results = {};
const load = [loadavg()[0]];
try {
  build('plain'); // warm the server and the analysis cache
  for (let i = 0; i < rounds; i++) {
    const order = Object.keys(MODES);
    for (const mode of i % 2 ? order.reverse() : order) (results[mode] ??= []).push(build(mode));
    load.push(loadavg()[0]);
  }
} finally {
  bazel('shutdown');
}
rmSync(ws, { recursive: true, force: true });
rmSync(root, { recursive: true, force: true });
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plainEdit = med(results.plain.map((r) => r.edit.wall));
const rows = Object.entries(results).map(([mode, rs]) => ({
  mode,
  failed: rs.filter((r) => r.cold.failed || r.edit.failed).length,
  'cold s': (med(rs.map((r) => r.cold.wall)) / 1000).toFixed(2),
  'edit s': (med(rs.map((r) => r.edit.wall)) / 1000).toFixed(2),
  'edit ÷ plain': (med(rs.map((r) => r.edit.wall)) / plainEdit).toFixed(2),
  'rustc runs cold / edit': rs.map((r) => `${r.cold.rustc}/${r.edit.rustc}`).join(' '),
  'all edits s': rs.map((r) => (r.edit.wall / 1000).toFixed(2)).join(' '),
}));
console.log(JSON.stringify({ date: new Date().toISOString(), rounds, load: load.map((l) => l.toFixed(1)), rows }, null, 1));
