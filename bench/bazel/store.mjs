#!/usr/bin/env node
// Edit-rebuild of a real crate (Debian's regex 1.7.1, vendored in
// examples/bazel) under Bazel 4.2.3, four ways side by side in one run:
//
//   store      //rust:flavor=rules_rust_main (the actions of plain rules_rust
//              main) + -Cincremental=${output_base}/rustc-incremental through
//              //rust/settings:extra_rustc_flags, linux-sandbox with
//              --sandbox_writable_path=<output_base>/rustc-incremental
//   tree       PR #3925 tree seeding (//rust:flavor=pr3925, seed actions,
//              incremental tree artifacts), linux-sandbox; stable cwd as
//              --//rust:stable_cwd says (default: the wrapper's automatic one)
//   worker     rules_rust_main, Rustc and RustcMetadata in seedwrap's
//              persistent worker started with --worker-incremental-dir auto
//              (the store, at <output_base>/seedwrap-incremental)
//   worker-flag the same worker without that startup flag, given the user's
//              -Cincremental=${output_base}/rustc-incremental instead (outside
//              a sandbox ${output_base} is the execroot on Bazel 4.2.3, whose
//              external/ is a real directory; seedwrap maps it to the store)
//   none       rules_rust_main without -Cincremental, linux-sandbox
//
//   node bench/bazel/store.mjs [--rounds N] [--wrapper FILE] [--out FILE.json]
//
// Per configuration, on a fresh copy of the workspace and a fresh output root:
// analysis (not timed), a cold build, then N rounds of (a comment appended to
// vendor/regex/src/lib.rs, rebuild; a function-body edit in
// vendor/regex/src/re_unicode.rs, rebuild), then one more comment edit built
// with -Zassert-incr-state=loaded on every main-workspace Rustc action:
// success means rustc loaded its previous state. All configurations advance
// phase by phase, so load from other work on the shared machine spreads over
// every row. The workspace copies hold copies of the crate sources (never the
// symlinked /usr/share/cargo/registry files).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { exampleWorkspace, option, wrapperUnderTest } from './example-workspace.mjs';

const wrapper = wrapperUnderTest();
const rounds = Number(option('--rounds', '3'));
const out = option('--out');
const stableCwd = option('--tree-stable-cwd', 'false');

const STORE_FLAG = '--//rust/settings:extra_rustc_flags=-Cincremental=${output_base}/rustc-incremental';
const SANDBOX = '--spawn_strategy=linux-sandbox';
const CONFIGS = [
  { name: 'store', flags: ['--//rust:flavor=rules_rust_main', SANDBOX, STORE_FLAG], store: true },
  {
    name: 'tree',
    flags: ['--//rust:flavor=pr3925', SANDBOX, '--//rust:seed=true', '--//rust:seed_min_mb=0', `--//rust:stable_cwd=${stableCwd}`],
  },
  {
    name: 'worker',
    flags: [
      '--//rust:flavor=rules_rust_main',
      SANDBOX,
      '--//rust:worker=true',
      '--strategy=Rustc=worker',
      '--strategy=RustcMetadata=worker',
      '--//rust:worker_startup_flags=--worker-incremental-dir,auto',
    ],
  },
  {
    name: 'worker-flag',
    flags: ['--//rust:flavor=rules_rust_main', SANDBOX, '--//rust:worker=true', '--strategy=Rustc=worker', '--strategy=RustcMetadata=worker', STORE_FLAG],
    store: true,
  },
  { name: 'none', flags: ['--//rust:flavor=rules_rust_main', SANDBOX] },
];
const COMMON = ['--jobs=2', '--color=no', '--curses=no', '--//rust:rustc_env=RUSTC_BOOTSTRAP=1'];
const REGEX_RUSTC = 'Compiling //vendor/regex:regex (Rustc)';
const BODY_FILE = 'vendor/regex/src/re_unicode.rs';
const BODY_LINE = '        self.is_match_at(text, 0)\n';

function actionMs(profile, name) {
  const events = JSON.parse(readFileSync(profile, 'utf8')).traceEvents ?? [];
  const e = events.find((x) => x.ph === 'X' && x.cat === 'action processing' && x.name === name);
  return e ? Math.round(e.dur / 1000) : undefined;
}

function workspace(config) {
  const { ws, root, bazel } = exampleWorkspace(wrapper, `seedwrap-store-bench-${config.name}`);
  const flags = [...config.flags, ...COMMON];
  let n = 0;
  const body = join(ws, BODY_FILE);
  const original = readFileSync(body, 'utf8');
  if (!original.includes(BODY_LINE)) throw new Error(`${BODY_FILE} no longer has the line the body edit changes`);
  return {
    config,
    analyse() {
      const r = bazel('build', '--nobuild', '//app', ...flags);
      if (r.status !== 0) throw new Error(`${config.name}: analysis failed:\n${r.stderr}`);
      if (config.store) {
        const ob = bazel('info', 'output_base', ...flags).stdout.trim();
        mkdirSync(join(ob, 'rustc-incremental'), { recursive: true });
        flags.push(`--sandbox_writable_path=${join(ob, 'rustc-incremental')}`);
      }
    },
    build(...extra) {
      const profile = join(root, `profile-${++n}.json`);
      const t0 = performance.now();
      const r = bazel('build', '//app', `--profile=${profile}`, ...flags, ...extra);
      const ms = Math.round(performance.now() - t0);
      return { ok: r.status === 0, ms, regexMs: r.status === 0 ? actionMs(profile, REGEX_RUSTC) : undefined, output: r.stderr, load: loadavg()[0] };
    },
    commentEdit: () => appendFileSync(join(ws, 'vendor/regex/src/lib.rs'), `\n// edit ${n}\n`),
    bodyEdit: () => writeFileSync(body, original.replace(BODY_LINE, `        let _ = std::hint::black_box(${n});\n${BODY_LINE}`)),
    dispose() {
      bazel('shutdown');
      spawnSync('chmod', ['-R', 'u+w', root]);
      rmSync(root, { recursive: true, force: true });
      rmSync(ws, { recursive: true, force: true });
    },
  };
}

const median = (xs) => {
  const v = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : undefined;
};
const must = (r, what) => {
  if (!r.ok) throw new Error(`${what} failed:\n${r.output.slice(-4000)}`);
  return r;
};

const spaces = CONFIGS.map(workspace);
const results = CONFIGS.map((c) => ({ name: c.name, flags: c.flags, cold: undefined, comment: [], body: [], loaded: undefined }));
const started = new Date().toISOString();
try {
  spaces.forEach((w) => w.analyse());
  spaces.forEach((w, i) => (results[i].cold = must(w.build(), `${w.config.name} cold build`)));
  for (let k = 0; k < rounds; k++) {
    spaces.forEach((w, i) => {
      w.commentEdit();
      results[i].comment.push(must(w.build(), `${w.config.name} comment-edit rebuild`));
    });
    spaces.forEach((w, i) => {
      w.bodyEdit();
      results[i].body.push(must(w.build(), `${w.config.name} body-edit rebuild`));
    });
  }
  spaces.forEach((w, i) => {
    if (w.config.name === 'none') return;
    w.commentEdit();
    results[i].loaded = w.build('--//rust:extra_rustc_flags=-Zassert-incr-state=loaded').ok;
  });
} finally {
  for (const w of spaces) w.dispose();
}

const summary = results.map((r) => ({
  name: r.name,
  cold: { ms: r.cold.ms, regexMs: r.cold.regexMs },
  comment: { ms: median(r.comment.map((b) => b.ms)), regexMs: median(r.comment.map((b) => b.regexMs)) },
  body: { ms: median(r.body.map((b) => b.ms)), regexMs: median(r.body.map((b) => b.regexMs)) },
  loaded: r.loaded,
  loads: [r.cold, ...r.comment, ...r.body].map((b) => b.load.toFixed(1)),
}));
const by = Object.fromEntries(summary.map((s) => [s.name, s]));
const ratio = (a, b) => (a !== undefined && b ? (a / b).toFixed(2) : '?');
const sec = (ms) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);
const lines = [
  `bench/bazel/store.mjs, ${started}, ${rounds} rounds, linux-sandbox, --jobs=2; 1-min load during the run ${Math.min(...summary.flatMap((s) => s.loads))}-${Math.max(...summary.flatMap((s) => s.loads))}`,
  '',
  '| config | cold build | comment edit: build (regex Rustc) | body edit: build (regex Rustc) | loaded | comment vs tree / none (regex Rustc) | body vs tree / none (regex Rustc) | cold vs none |',
  '|---|---|---|---|---|---|---|---|',
];
for (const s of summary) {
  const vs = (kind, base) => `${ratio(s[kind].ms, by[base][kind].ms)}× (${ratio(s[kind].regexMs, by[base][kind].regexMs)}×)`;
  lines.push(
    `| ${s.name} | ${sec(s.cold.ms)} | ${sec(s.comment.ms)} (${sec(s.comment.regexMs)}) | ${sec(s.body.ms)} (${sec(s.body.regexMs)}) | ${s.loaded === undefined ? '–' : s.loaded ? 'yes' : 'no'} | ${vs('comment', 'tree')} / ${vs('comment', 'none')} | ${vs('body', 'tree')} / ${vs('body', 'none')} | ${ratio(s.cold.ms, by.none.cold.ms)}× |`,
  );
}
const report = `${lines.join('\n')}\n`;
process.stdout.write(report);
if (out) writeFileSync(out, JSON.stringify({ started, rounds, summary, raw: results.map((r) => ({ ...r, cold: { ...r.cold, output: undefined }, comment: r.comment.map((b) => ({ ...b, output: undefined })), body: r.body.map((b) => ({ ...b, output: undefined })) })) }, null, 2) + '\n');
