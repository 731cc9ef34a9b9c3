// Cold builds of //app in a copy of examples/bazel, rules_rust_main flavor
// (both actions of a library run the same rustc command, as in rules_rust
// main), linux-sandbox, --jobs=2, warm server, `bazel clean` before each:
//   off     SEEDWRAP_PIPELINE=off: every metadata action runs rustc (upstream's behaviour)
//   a       one rustc per crate
// plain (SEEDWRAP_PIPELINE_DIR) and with the store (-Cincremental=${output_base}/rustc-incremental),
// interleaved round by round. Per build: wall, the CPU of every action (the
// Bazel server's cutime+cstime: all the processes it waited for, rustc
// included), how many metadata actions took their rmeta, and from the
// profile, when each crate's two actions started.
//
//   node bench/pipelining-a/bazel.mjs [ROUNDS=3]
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { exampleWorkspace, wrapperUnderTest } from '../bazel/example-workspace.mjs';

const rounds = Number(process.argv[2] ?? 3);
const { ws, root, bazel } = exampleWorkspace(wrapperUnderTest(), 'seedwrap-bench-pipe-bazel');
const ob = bazel('info', 'output_base').stdout.trim();
const pid = Number(bazel('info', 'server_pid').stdout.trim());
const store = join(ob, 'rustc-incremental');
const pipeDir = join(root, 'pipe');
mkdirSync(store, { recursive: true });
mkdirSync(pipeDir, { mode: 0o700 });
const TICK = 100; // USER_HZ
const childCpu = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) / TICK; // cutime, cstime (fields 16, 17)
};

function build(variant, mode) {
  const env = ['RULES_RUST_PROCESS_WRAPPER_DEBUG=1', ...(mode === 'plain' ? [`SEEDWRAP_PIPELINE_DIR=${pipeDir}`] : []), ...(variant === 'off' ? ['SEEDWRAP_PIPELINE=off'] : [])];
  const flags = ['--//rust:flavor=rules_rust_main', '--spawn_strategy=linux-sandbox', '--jobs=2', '--color=no', '--curses=no', '--nosandbox_debug', `--//rust:rustc_env=${env.join(',')}`, `--profile=${join(root, 'profile.json')}`];
  if (mode === 'store') flags.push('--//rust/settings:extra_rustc_flags=-Cincremental=${output_base}/rustc-incremental', `--sandbox_writable_path=${store}`);
  bazel('clean');
  rmSync(store, { recursive: true, force: true });
  mkdirSync(store);
  const cpu0 = childCpu();
  const t0 = performance.now();
  const r = bazel('build', '//app', ...flags);
  const wall = performance.now() - t0;
  const cpu = childCpu() - cpu0;
  if (r.status !== 0) throw new Error(r.stderr);
  const took = r.stderr.split('\n').filter((l) => l.includes('pipeline: took the rmeta')).length;
  const metas = r.stderr.split('\n').filter((l) => l.includes('pipeline: metadata action at')).length;
  const events = JSON.parse(readFileSync(join(root, 'profile.json'), 'utf8')).traceEvents.filter((e) => e.cat === 'action processing' && / \((Rustc|RustcMetadata)\)$/.test(e.name));
  const gaps = {};
  for (const e of events) {
    const [, label, mn] = / (\S+) \((\w+)\)$/.exec(e.name);
    (gaps[label] ??= {})[mn] = [Math.round(e.ts / 1000), Math.round((e.ts + e.dur) / 1000)];
  }
  const order = Object.entries(gaps).filter(([, v]) => v.RustcMetadata && v.Rustc).map(([k, v]) => `${k.replace(/^.*:/, '')}: meta ${v.RustcMetadata[0] - v.Rustc[0]} ms after full start, full ${v.Rustc[1] - v.Rustc[0]} ms${v.RustcMetadata[0] > v.Rustc[1] ? ' (after full ended)' : ''}`);
  return { wall, cpu, took, metas, order };
}

const results = {};
const load = [loadavg()[0]];
build('a', 'plain'); // warm the server and the analysis cache
for (let i = 0; i < rounds; i++) {
  for (const mode of ['plain', 'store']) {
    for (const variant of i % 2 ? ['a', 'off'] : ['off', 'a']) (results[`${mode} ${variant}`] ??= []).push(build(variant, mode));
  }
  load.push(loadavg()[0]);
}
bazel('shutdown');
rmSync(ws, { recursive: true, force: true });
rmSync(root, { recursive: true, force: true });
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = ['plain', 'store'].map((mode) => {
  const off = results[`${mode} off`];
  const a = results[`${mode} a`];
  return {
    mode,
    'wall off s': (med(off.map((r) => r.wall)) / 1000).toFixed(1), 'wall a s': (med(a.map((r) => r.wall)) / 1000).toFixed(1), 'wall a/off': (med(a.map((r) => r.wall)) / med(off.map((r) => r.wall))).toFixed(2),
    'cpu off s': med(off.map((r) => r.cpu)).toFixed(1), 'cpu a s': med(a.map((r) => r.cpu)).toFixed(1), 'cpu a/off': (med(a.map((r) => r.cpu)) / med(off.map((r) => r.cpu))).toFixed(2),
    'metadata actions taken (a)': a.map((r) => `${r.took}/${r.metas}`).join(' '),
  };
});
console.log(JSON.stringify({ date: new Date().toISOString(), rounds, load: load.map((l) => l.toFixed(1)), rows, order: results['plain a'].map((r) => r.order) }, null, 1));
