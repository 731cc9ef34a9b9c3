// Start-up with the feature off: the bundle before one-rustc-per-crate
// (BASE, built from git) against this one, both running `/bin/true` through
// `--rustc-output-format rendered` (the closest a non-Rust child gets to the
// hook: a format given, no store, no SEEDWRAP_PIPELINE_DIR), interleaved.
// Each sample is a batch of 10 runs in one `sh` loop (CPU = user+sys of the
// batch from /usr/bin/time, whose resolution is 10 ms), reported per run;
// medians over ROUNDS batches of each.
//
//   node bench/pipelining-a/startup.mjs [ROUNDS=20] [BASE=1397481]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const rounds = Number(process.argv[2] ?? 20);
const BATCH = 10;
const base = process.argv[3] ?? '1397481';
const repo = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'seedwrap-bench-pipe-startup-'));
const before = join(tmp, 'before');
execFileSync('git', ['worktree', 'add', '--detach', before, base], { cwd: repo, stdio: 'ignore' });
try {
  execFileSync('ln', ['-s', join(repo, 'node_modules'), join(before, 'node_modules')]);
  execFileSync(process.execPath, [join(before, 'scripts/build.mjs'), join(tmp, 'before.cjs')], { cwd: before });
} finally {
  execFileSync('git', ['worktree', 'remove', '--force', before], { cwd: repo, stdio: 'ignore' });
}
const bundles = { before: join(tmp, 'before.cjs'), after: join(repo, 'dist/seedwrap.cjs') };
const samples = { before: [], after: [] };
const load = [loadavg()[0]];
for (let i = 0; i < rounds; i++) {
  for (const name of i % 2 ? ['after', 'before'] : ['before', 'after']) {
    const t0 = performance.now();
    const loop = `i=0; while [ $i -lt ${BATCH} ]; do "$0" -- "$1" --rustc-output-format rendered -- /bin/true || exit 1; i=$((i+1)); done`;
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', join(tmp, 't'), '/bin/sh', '-c', loop, process.execPath, bundles[name]], { env: { PATH: '/usr/bin:/bin' } });
    const wall = (performance.now() - t0) / BATCH;
    if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
    const [u, s] = readFileSync(join(tmp, 't'), 'utf8').trim().split(' ').map(Number);
    samples[name].push({ wall, cpu: ((u + s) * 1000) / BATCH });
  }
}
load.push(loadavg()[0]);
rmSync(tmp, { recursive: true, force: true });
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const row = (name) => ({ wall: +med(samples[name].map((s) => s.wall)).toFixed(1), cpu: +med(samples[name].map((s) => s.cpu)).toFixed(1) });
const b = row('before');
const a = row('after');
console.log(JSON.stringify({ date: new Date().toISOString(), rounds, base, load: load.map((l) => l.toFixed(1)), before: b, after: a, 'wall after/before': (a.wall / b.wall).toFixed(3), 'cpu after/before': (a.cpu / b.cpu).toFixed(3) }));
