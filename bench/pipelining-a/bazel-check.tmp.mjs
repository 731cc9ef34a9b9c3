import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleWorkspace, wrapperUnderTest } from '/work/wt/pipe/bench/bazel/example-workspace.mjs';
const { ws, root, bazel } = exampleWorkspace(wrapperUnderTest(), 'seedwrap-pipe-bazel');
const ob = bazel('info', 'output_base').stdout.trim();
mkdirSync(join(ob, 'rustc-incremental'), { recursive: true });
const mode = process.argv[2] ?? 'store';
const flags = ['--//rust:flavor=rules_rust_main', '--spawn_strategy=linux-sandbox', '--jobs=2', '--color=no', '--curses=no', '--nosandbox_debug',
  `--profile=${join(ws, 'profile.json')}`];
const env = ['RULES_RUST_PROCESS_WRAPPER_DEBUG=1'];
if (mode === 'store') flags.push('--//rust/settings:extra_rustc_flags=-Cincremental=${output_base}/rustc-incremental', `--sandbox_writable_path=${join(ob, 'rustc-incremental')}`);
else { mkdirSync('/tmp/seedwrap-pipe-bazel-dir', { mode: 0o700, recursive: true }); env.push('SEEDWRAP_PIPELINE_DIR=/tmp/seedwrap-pipe-bazel-dir'); }
flags.push(`--//rust:rustc_env=${env.join(',')}`);
const r = bazel('build', '//app', ...flags);
writeFileSync('/tmp/pipe-bazel-out.txt', r.stderr);
console.log(r.status, ws, root);
const lines = r.stderr.split('\n').filter((l) => /pipeline|pipelining/.test(l));
console.log(lines.join('\n'));
bazel('shutdown');
