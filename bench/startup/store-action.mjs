#!/usr/bin/env node
// seedwrap's own per-action work in a sandbox-shaped action with the store,
// rustc replaced by /bin/true (issue 17 item 4). Rows, interleaved round by
// round (each round runs every row once per run, in a rotating order):
//   node-spawn   a 4-line CommonJS script that spawns /bin/true and waits: the floor
//   plain        BUNDLE --rustc-output-format rendered -- /bin/true in the sandbox cwd,
//                no -Cincremental (no namespace, no store)
//   A, B, …      each given bundle with the store, as rules_rust runs a compile
//                (--rustc-output-format rendered: pipelining's rendezvous too):
//                -Cincremental=${output_base}/rustc-incremental
//                in <ob>/sandbox/linux-sandbox/<N>/execroot/ws (stable cwd, the namespace,
//                the store's bind and bookkeeping), a fresh N for every run
// and, for the last bundle, the breakdown:
//   ns-only      --stable-cwd true, no -Cincremental: Node + the namespace, no store
//   store-no-ns  -Cincremental with --stable-cwd false: Node + the store's bookkeeping, no namespace
// Prints medians and each row's median minus node-spawn's (wall ms), the mean
// CPU per run of the whole process tree, and the load average before and after.
//
// With --rusage the CPU is each run's own, to the microsecond: every run is
// started by `bash -c '"$@"; times'`, whose `times` prints the user and system
// time of its waited-for children (getrusage) with millisecond decimals; then
// the CPU column is a median per run as well as a mean (bash's own start-up
// is outside the figure, but inside the wall time of every row alike).
//
// Usage: node bench/startup/store-action.mjs [--rounds 10] [--runs 10] [--rusage] BUNDLE_A [BUNDLE_B ...]
// Needs root or unprivileged user namespaces (as the store's namespace does).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  argv.splice(i, 2);
  return v;
};
const rusageAt = argv.indexOf('--rusage');
const rusage = rusageAt >= 0;
if (rusage) argv.splice(rusageAt, 1);
const rounds = opt('--rounds', 10);
const runs = opt('--runs', 10);
const bundles = argv.map((b) => resolve(b)); // the runs' cwd is the sandbox
if (bundles.length === 0) {
  console.error('usage: store-action.mjs [--rounds N] [--runs N] BUNDLE...');
  process.exit(2);
}

const tmp = mkdtempSync(join(tmpdir(), 'seedwrap-store-action-'));
const ob = join(tmp, 'ob');
mkdirSync(join(ob, 'execroot', 'ws'), { recursive: true });
const spawnScript = join(tmp, 'spawn.cjs');
writeFileSync(spawnScript, `const { spawn } = require('node:child_process');
const child = spawn(process.argv[2], process.argv.slice(3), { stdio: ['inherit', 'inherit', 'pipe'] });
child.stderr.on('data', (b) => process.stderr.write(b));
child.on('close', (code) => { process.exitCode = code ?? 1; });
`);
let n = 0;
function sandbox() {
  const dir = join(ob, 'sandbox', 'linux-sandbox', String(++n), 'execroot', 'ws');
  mkdirSync(join(dir, 'out'), { recursive: true });
  return dir;
}
const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const rustcArgs = ['app/lib.rs', '--crate-name=app', '--crate-type=rlib', '--emit=dep-info,link,metadata', '--out-dir=out'];
const rows = [
  { name: 'node-spawn', cmd: () => [spawnScript, '/bin/true'] },
  { name: 'plain', cmd: () => [bundles[0], '--subst', 'pwd=${pwd}', '--rustc-output-format', 'rendered', '--', '/bin/true', ...rustcArgs] },
  ...bundles.map((b, i) => ({
    name: `${String.fromCharCode(65 + i)} ${basename(b)}`,
    cmd: () => [b, '--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--rustc-output-format', 'rendered', '--', '/bin/true', ...rustcArgs, '-Cincremental=${output_base}/rustc-incremental'],
  })),
  { name: 'ns-only', cmd: () => [bundles.at(-1), '--stable-cwd', 'true', '--subst', 'pwd=${pwd}', '--rustc-output-format', 'rendered', '--', '/bin/true', ...rustcArgs] },
  { name: 'store-no-ns', cmd: () => [bundles.at(-1), '--stable-cwd', 'false', '--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--rustc-output-format', 'rendered', '--', '/bin/true', ...rustcArgs, '-Cincremental=${output_base}/rustc-incremental'] },
];
const times = rows.map(() => []);
// CPU of the whole process tree (the wrapper, unshare, sh, mount, /bin/true):
// the bench's cutime + cstime, in clock ticks (10 ms), summed per row; a mean
// per run, less sensitive to load than the wall time.
const cpu = rows.map(() => 0);
const childTicks = () => {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return Number(f[13]) + Number(f[14]);
};
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const loadBefore = load();
const cpuRuns = rows.map(() => []);
// `times`' second line: the children's user and system time, e.g. `0m0.031s 0m0.012s`.
const timesMs = (out) => {
  const line = out.toString().trim().split('\n').at(-1);
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(line);
  if (!m) throw new Error(`unexpected times output: ${line}`);
  return (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
};
const once = (i) => {
  const cwd = sandbox();
  const c0 = childTicks();
  const t0 = process.hrtime.bigint();
  const r = rusage
    ? spawnSync('/bin/bash', ['-c', '"$@" >/dev/null; s=$?; times; exit $s', 'bash', process.execPath, ...rows[i].cmd()], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawnSync(process.execPath, rows[i].cmd(), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 || r.stderr.length > 0) throw new Error(`${rows[i].name}: exit ${r.status}: ${r.stderr}`);
  if (rusage) {
    const c = timesMs(r.stdout);
    cpu[i] += c;
    cpuRuns[i].push(c);
  } else {
    cpu[i] += (childTicks() - c0) * 10;
  }
  return ms;
};
for (let i = 0; i < rows.length; i++) once(i); // warm-up
cpu.fill(0);
for (const c of cpuRuns) c.length = 0;
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < runs; k++) {
    for (let j = 0; j < rows.length; j++) {
      const i = (j + round + k) % rows.length;
      times[i].push(once(i));
    }
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const floor = median(times[0]);
console.log(`${new Date().toISOString()} load ${loadBefore} -> ${load()}; ${rounds} rounds x ${runs} runs, node ${process.version}`);
const cpuFloor = cpu[0] / times[0].length;
const cpuMedianFloor = rusage ? median(cpuRuns[0]) : 0;
console.log(`row\tmedian ms\tp25\tp75\tminus node-spawn\tCPU ms/run\tCPU minus node-spawn${rusage ? '\tCPU median\tCPU median minus node-spawn' : ''}`);
for (let i = 0; i < rows.length; i++) {
  const s = [...times[i]].sort((a, b) => a - b);
  const q = (p) => s[Math.floor(p * (s.length - 1))];
  const c = cpu[i] / times[i].length;
  const precise = rusage ? `\t${median(cpuRuns[i]).toFixed(2)}\t${(median(cpuRuns[i]) - cpuMedianFloor).toFixed(2)}` : '';
  console.log(`${rows[i].name}\t${median(times[i]).toFixed(1)}\t${q(0.25).toFixed(1)}\t${q(0.75).toFixed(1)}\t${(median(times[i]) - floor).toFixed(1)}\t${c.toFixed(rusage ? 2 : 1)}\t${(c - cpuFloor).toFixed(rusage ? 2 : 1)}${precise}`);
}
rmSync(tmp, { recursive: true, force: true });
