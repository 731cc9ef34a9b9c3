// A Bazel 4.2.3 build of N small independent crates (rustc through seedwrap),
// one-shot vs persistent worker, interleaved rounds in one run:
//
//   oneshot        --strategy=SeedwrapRustc=local: `node seedwrap.cjs ... @flagfile` per action
//   worker         --strategy=SeedwrapRustc=worker, worker-local incremental cache off
//   worker+incr    the same with --worker-incremental-dir auto; after the first round
//                  its sessions survive `bazel clean` (they live in the output base)
//
// Each measurement is `bazel clean` then a timed `bazel build` (server and
// workers stay up, as between builds in a day's work). A second scenario edits
// one crate and rebuilds (one action).
//
// The workspace is fixtures/worker/bazel plus generated crates; the tool is the
// built dist/seedwrap.cjs (one-shot runs of a worker-style action inline its
// @flagfile).
//
// Usage: npm run build && node bench/worker/bazel.mjs [--crates 24] [--rounds 3] [--json out.json]
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const CRATES = Number(opt('--crates', 24));
const ROUNDS = Number(opt('--rounds', 3));
const jsonOut = opt('--json', undefined);

const scratch = mkdtempSync(join(tmpdir(), 'seedwrap-bazel-bench-'));
const ws = join(scratch, 'ws');
const userRoot = join(scratch, 'user-root');
cpSync(join(root, 'fixtures', 'worker', 'bazel'), ws, { recursive: true });
copyFileSync(join(root, 'dist', 'seedwrap.cjs'), join(ws, 'tools', 'seedwrap.cjs'));
execFileSync('chmod', ['755', join(ws, 'tools', 'seedwrap.cjs')]);

const rustc = join(execFileSync(join(homedir(), '.cargo', 'bin', 'rustc'), ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), 'bin', 'rustc');
mkdirSync(join(ws, 'many'), { recursive: true });
let build = 'load("//:defs.bzl", "rust_lib")\n\n';
for (let c = 0; c < CRATES; c++) {
  const fns = Array.from({ length: 40 }, (_, i) => `pub fn f${i}(x: u64) -> u64 { x.wrapping_mul(${i + c + 3}).rotate_left(${(i + c) % 13}) }`).join('\n');
  writeFileSync(join(ws, 'many', `c${c}.rs`), `${fns}\n`);
  build += `rust_lib(name = "c${c}", src = "c${c}.rs")\n`;
}
writeFileSync(join(ws, 'many', 'BUILD.bazel'), build);

function bazel(...a) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/bazel', [`--output_user_root=${userRoot}`, '--max_idle_secs=120', ...a], { cwd: ws, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bazel ${a.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const modes = {
  oneshot: ['--strategy=SeedwrapRustc=local', '--define=incremental=0'],
  worker: ['--strategy=SeedwrapRustc=worker', '--define=incremental=0'],
  'worker+incr': ['--strategy=SeedwrapRustc=worker', '--define=incremental=1'],
};
const common = [`--define=rustc=${rustc}`, '//many:all'];
const clean = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
const edit = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
try {
  bazel('build', ...modes.oneshot, ...common); // server start, analysis cache
  let n = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const names = Object.keys(modes);
    for (const m of names.map((_, i) => names[(i + r) % names.length])) {
      bazel('clean');
      clean[m].push(bazel('build', ...modes[m], ...common));
      appendFileSync(join(ws, 'many', 'c0.rs'), `pub fn edit${n++}() -> u32 { ${n} }\n`);
      edit[m].push(bazel('build', ...modes[m], ...common));
    }
  }
} finally {
  spawnSync('/usr/bin/bazel', [`--output_user_root=${userRoot}`, 'shutdown'], { cwd: ws });
  rmSync(scratch, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`Bazel 4.2.3, ${CRATES} crates, ${ROUNDS} interleaved rounds, node ${process.version}`);
console.log('| mode | clean build, median ms (all) | edit one crate + build, median ms (all) |');
console.log('|---|---|---|');
for (const m of Object.keys(modes)) {
  console.log(`| ${m} | ${median(clean[m]).toFixed(0)} (${clean[m].map((x) => x.toFixed(0)).join(', ')}) | ${median(edit[m]).toFixed(0)} (${edit[m].map((x) => x.toFixed(0)).join(', ')}) |`);
}
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ crates: CRATES, rounds: ROUNDS, clean, edit }, null, 2)}\n`);
