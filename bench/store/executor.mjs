// The executor store (issue 16 item 3) on a real crate: regex 1.7.1
// (Debian's registry, with memchr, aho-corasick and regex-syntax prebuilt)
// compiled through the built bundle in executor-shaped directories
// (<build>/<id>/root, a new id per action, as Buildbarn does), after a
// function-body edit in regex (`Regex::is_match`), three ways interleaved
// round by round so all see the same load:
//   store: -Cincremental=${output_base}/rustc-incremental with the executor's
//          SEEDWRAP_EXECUTOR_STORE / SEEDWRAP_EXECUTOR_BUILD_DIR
//   cold:  the same flag without them (nothing can be reused)
//   none:  no -Cincremental at all
//
//   node bench/store/executor.mjs [ROUNDS=5]
// Prints a JSON summary (medians in ms, ratios to cold and none). Needs root (mount namespace).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const rounds = Number(process.argv[2] ?? 5);
const bundle = resolve(import.meta.dirname, '../../dist/seedwrap.cjs');
const rustc = join(execFileSync(join(homedir(), '.cargo/bin/rustc'), ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), 'bin', 'rustc');
const reg = '/usr/share/cargo/registry';
const find = (prefix) => join(reg, readdirSync(reg).filter((n) => n.startsWith(`${prefix}-`) && /^\d/.test(n.slice(prefix.length + 1))).sort().at(-1));
const tmp = mkdtempSync(join(tmpdir(), 'seedwrap-bench-executor-'));
const build = join(tmp, 'build');
const store = join(tmp, 'store');
const deps = join(tmp, 'deps');
for (const d of [build, store, deps]) mkdirSync(d, { mode: 0o755 });

const features = (...fs) => fs.flatMap((f) => ['--cfg', `feature="${f}"`]);
const unicode = ['unicode', 'unicode-age', 'unicode-bool', 'unicode-case', 'unicode-gencat', 'unicode-perl', 'unicode-script', 'unicode-segment'];
const common = ['--crate-type=rlib', '-Copt-level=0', '-Cdebuginfo=0', '--cap-lints=allow', `-Ldependency=${deps}`];
function dep(prefix, name, edition, extra) {
  const r = spawnSync(rustc, [join(find(prefix), 'src', 'lib.rs'), `--crate-name=${name}`, ...common, `--edition=${edition}`, `--out-dir=${deps}`, ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
}
dep('memchr', 'memchr', '2018', features('std'));
dep('aho-corasick', 'aho_corasick', '2018', [...features('std'), `--extern=memchr=${deps}/libmemchr.rlib`]);
dep('regex-syntax', 'regex_syntax', '2018', features('default', ...unicode));
const source = readFileSync(join(find('regex'), 'src', 're_unicode.rs'), 'utf8');
const body = 'self.is_match_at(text, 0)';
if (!source.includes(body)) throw new Error('the edited body is not in re_unicode.rs');

let id = 0;
function action(edit) {
  const root = join(build, `${++id}`, 'root');
  mkdirSync(join(root, 'out'), { recursive: true });
  cpSync(find('regex'), join(root, 'regex'), { recursive: true, dereference: true });
  writeFileSync(join(root, 'regex', 'src', 're_unicode.rs'), source.replace(body, `self.is_match_at(text, ${edit} - ${edit})`));
  return root;
}

function compile(root, mode) {
  const args = [bundle, '--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--rustc-output-format', 'rendered', '--',
    rustc, 'regex/src/lib.rs', '--crate-name=regex', '--edition=2018', ...common, '--error-format=json', '--json=artifacts', '--emit=dep-info,link,metadata', '--out-dir=out',
    ...features('default', 'std', 'perf', 'perf-cache', 'perf-dfa', 'perf-inline', 'perf-literal', 'aho-corasick', 'memchr', ...unicode),
    `--extern=memchr=${deps}/libmemchr.rlib`, `--extern=aho_corasick=${deps}/libaho_corasick.rlib`, `--extern=regex_syntax=${deps}/libregex_syntax.rlib`,
    '--remap-path-prefix=${output_base}=ob', '--remap-path-prefix=${pwd}=.', ...(mode === 'none' ? [] : ['-Cincremental=${output_base}/rustc-incremental'])];
  const env = { PATH: '/usr/bin:/bin', ...(mode === 'store' ? { SEEDWRAP_EXECUTOR_STORE: store, SEEDWRAP_EXECUTOR_BUILD_DIR: build } : {}) };
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--', ...args], { cwd: root, env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0 || r.stderr !== '') throw new Error(`compile failed (${r.status}): ${r.stderr}`);
  rmSync(join(root, '..'), { recursive: true, force: true });
  return ms;
}

const modes = ['store', 'cold', 'none'];
const times = { store: [], cold: [], none: [] };
compile(action(0), 'store'); // fills the store
for (let i = 1; i <= rounds; i++) for (const mode of modes) times[mode].push(compile(action(i), mode));
rmSync(tmp, { recursive: true, force: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(modes.map((k) => [k, Math.round(median(times[k]))]));
console.log(JSON.stringify({
  date: new Date().toISOString(), rustc: execFileSync(rustc, ['--version'], { encoding: 'utf8' }).trim(), rounds, load: loadavg().map((l) => l.toFixed(2)),
  bodyEditRebuildMs: m, storeVsCold: +(m.store / m.cold).toFixed(2), storeVsNone: +(m.store / m.none).toFixed(2),
  // Each round's own ratio: the three compiles of a round ran back to back under the same load.
  storeVsColdPerRound: times.store.map((t, i) => +(t / times.cold[i]).toFixed(2)),
  raw: Object.fromEntries(modes.map((k) => [k, times[k].map(Math.round)])),
}, null, 1));
