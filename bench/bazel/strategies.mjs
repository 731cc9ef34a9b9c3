#!/usr/bin/env node
// Cold build vs seeded rebuild of examples/bazel per spawn strategy, with and
// without a stable cwd (seedwrap --stable-cwd), and with seeding off (what rules_rust does today).
//
//   node bench/bazel/strategies.mjs [--wrapper FILE] [--out FILE.md]
//
// Per configuration, on a fresh copy of the workspace and a fresh output root
// (all configurations advance phase by phase, interleaved):
//   1. analysis only (server start and loading are not timed);
//   2. cold build of //app (timed);
//   3. three times: a comment appended to vendor/regex/src/lib.rs, rebuild
//      (timed; the median is reported);
//   4. another comment, rebuild with -Zassert-incr-state=loaded on every
//      main-workspace Rustc action: success means rustc loaded the seed.
// Times are wall-clock times of `bazel build` with a warm server, and the
// regex Rustc action's own time from --profile. Runs one after another on
// the same machine: compare rows of one run, not across machines.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleWorkspace, option, wrapperUnderTest } from './example-workspace.mjs';

const wrapper = wrapperUnderTest();
const out = option('--out');

const CONFIGS = [
  { strategy: 'linux-sandbox', flag: '--spawn_strategy=linux-sandbox', seed: true, stable: false },
  { strategy: 'linux-sandbox', flag: '--spawn_strategy=linux-sandbox', seed: true, stable: true },
  { strategy: 'linux-sandbox', flag: '--spawn_strategy=linux-sandbox', seed: false, stable: false },
  { strategy: 'processwrapper-sandbox', flag: '--spawn_strategy=processwrapper-sandbox', seed: true, stable: false },
  { strategy: 'processwrapper-sandbox', flag: '--spawn_strategy=processwrapper-sandbox', seed: true, stable: true },
  { strategy: 'no-sandbox', flag: '--spawn_strategy=local', seed: true, stable: true },
  { strategy: 'no-sandbox', flag: '--spawn_strategy=local', seed: false, stable: false },
];
const REGEX_RUSTC = 'Compiling //vendor/regex:regex (Rustc)';
// Each rebuild follows a new comment; the median of three damps the noise of
// a shared 2-core machine.
const REBUILDS = 3;
const median = (xs) => {
  const v = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : undefined;
};

function actionMs(profile, name) {
  const events = JSON.parse(readFileSync(profile, 'utf8')).traceEvents ?? [];
  const e = events.find((x) => x.ph === 'X' && x.cat === 'action processing' && x.name === name);
  return e ? Math.round(e.dur / 1000) : undefined;
}

function workspace(config) {
  const { ws, root, bazel } = exampleWorkspace(wrapper, 'seedwrap-bench');
  const flags = [
    config.flag,
    '--jobs=2',
    `--//rust:seed=${config.seed}`,
    `--//rust:stable_cwd=${config.stable}`,
    '--//rust:seed_min_mb=0',
    '--//rust:rustc_env=RUSTC_BOOTSTRAP=1',
  ];
  let n = 0;
  const build = (...extra) => {
    const profile = join(root, `profile-${++n}.json`);
    const t0 = performance.now();
    const r = bazel('build', '//app', '--color=no', '--curses=no', `--profile=${profile}`, ...flags, ...extra);
    const ms = Math.round(performance.now() - t0);
    return { ok: r.status === 0, ms, regexMs: r.status === 0 ? actionMs(profile, REGEX_RUSTC) : undefined, output: r.stderr };
  };
  return {
    config,
    analyse: () => bazel('build', '--nobuild', '//app', ...flags),
    build,
    edit: () => appendFileSync(join(ws, 'vendor/regex/src/lib.rs'), `\n// edit ${n}\n`),
    dispose() {
      bazel('shutdown');
      spawnSync('chmod', ['-R', 'u+w', root]);
      rmSync(root, { recursive: true, force: true });
      rmSync(ws, { recursive: true, force: true });
    },
  };
}

// Phase by phase across all configurations (every cold build, then every
// first rebuild, ...), so that the load of a shared machine spreads over all
// rows instead of landing on whichever ran last.
function measureAll() {
  const spaces = CONFIGS.map(workspace);
  try {
    const results = spaces.map((w) => {
      w.analyse();
      return { ...w.config, cold: undefined, rebuilds: [], loaded: undefined };
    });
    const must = (r, what) => {
      if (!r.ok) throw new Error(`${what} failed:\n${r.output}`);
      return r;
    };
    spaces.forEach((w, i) => (results[i].cold = must(w.build(), 'cold build')));
    for (let k = 0; k < REBUILDS; k++) {
      spaces.forEach((w, i) => {
        w.edit();
        results[i].rebuilds.push(must(w.build(), 'rebuild'));
      });
    }
    spaces.forEach((w, i) => {
      w.edit();
      if (w.config.seed) results[i].loaded = w.build('--//rust:extra_rustc_flags=-Zassert-incr-state=loaded').ok;
    });
    return results.map((r) => ({
      ...r,
      rebuild: { ms: median(r.rebuilds.map((b) => b.ms)), regexMs: median(r.rebuilds.map((b) => b.regexMs)) },
    }));
  } finally {
    for (const w of spaces) w.dispose();
  }
}

const lines = [
  '| strategy | seeding | stable cwd | cold build | rebuild after a comment edit (median of 3) | regex Rustc action: cold → rebuild | rustc loaded the seed |',
  '|---|---|---|---|---|---|---|',
];
const s = (ms) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);
for (const r of measureAll()) {
  const line = `| ${r.strategy} | ${r.seed ? 'on' : 'off'} | ${r.seed ? (r.stable ? "--stable-cwd" : "no") : '–'} | ${s(r.cold.ms)} | ${s(r.rebuild.ms)} | ${s(r.cold.regexMs)} → ${s(r.rebuild.regexMs)} | ${r.loaded === undefined ? '– (no -Cincremental)' : r.loaded ? 'yes' : 'no'} |`;
  lines.push(line);
}
const report = `${lines.join('\n')}\n`;
process.stdout.write(report);
if (out) writeFileSync(out, report);
