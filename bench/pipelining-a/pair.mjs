// One crate's pipelined pair as rules_rust runs it: the full compile (`Rustc`)
// and the metadata action (`RustcMetadata`, `--rustc-quit-on-rmeta true`) with
// the same rustc command, started together in two sandbox-shaped directories
// whose inputs are symlinks into one execroot (as linux-sandbox makes them),
// through the built bundle. Per pair: the CPU of both actions (user+sys of the
// wrapper and everything it waited for, from /usr/bin/time), the wall time
// until the rmeta is there (the metadata action's exit: what dependents wait
// for) and until both are done. Variants, interleaved round by round:
//   off   both compile (SEEDWRAP_PIPELINE=off; upstream's behaviour)
//   a     one rustc per crate (the metadata action takes the full compile's rmeta)
// each plain (SEEDWRAP_PIPELINE_DIR) and with the store (-Cincremental, a cold
// store each round), the metadata action started STAGGER ms after the full one.
//
//   node bench/pipelining-a/pair.mjs [ROUNDS=5] [CRATES=serde,regex] [STAGGER=0]
// Needs root (the store's mount namespace) and Debian's librust-*-dev sources.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const rounds = Number(process.argv[2] ?? 5);
const crates = (process.argv[3] ?? 'serde,regex').split(',');
const stagger = Number(process.argv[4] ?? 0);
const bundle = resolve(import.meta.dirname, '../../dist/seedwrap.cjs');
const rustc = join(execFileSync(join(homedir(), '.cargo/bin/rustc'), ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), 'bin', 'rustc');
const reg = '/usr/share/cargo/registry';
const ob = mkdtempSync(join(tmpdir(), 'seedwrap-bench-pipe-'));
const execroot = join(ob, 'execroot', 'ws');
const pipeDir = join(ob, 'pipe');
mkdirSync(pipeDir, { mode: 0o700 });

const feats = (...fs) => fs.flatMap((f) => ['--cfg', `feature="${f}"`]);
const UNICODE = ['unicode', 'unicode-age', 'unicode-bool', 'unicode-case', 'unicode-gencat', 'unicode-perl', 'unicode-script', 'unicode-segment'];
// name → registry prefix, features, dependencies (compiled once, plain, into deps/)
const CRATES = {
  memchr: { dir: 'memchr', flags: ['--edition=2018', ...feats('std')], deps: [] },
  aho_corasick: { dir: 'aho-corasick', flags: ['--edition=2018', ...feats('std')], deps: ['memchr'] },
  regex_syntax: { dir: 'regex-syntax', flags: ['--edition=2018', ...feats(...UNICODE)], deps: [] },
  regex: { dir: 'regex', flags: ['--edition=2018', ...feats('std', 'perf', 'perf-cache', 'perf-dfa', 'perf-inline', 'perf-literal', 'aho-corasick', 'memchr', ...UNICODE)], deps: ['aho_corasick', 'memchr', 'regex_syntax'] },
  serde: { dir: 'serde', flags: ['--edition=2015', ...feats('std')], deps: [] },
};
const srcOf = (name) => {
  const d = readdirSync(reg).filter((n) => n.startsWith(`${CRATES[name].dir}-`) && /^[\d.]+$/.test(n.slice(CRATES[name].dir.length + 1))).sort().at(-1);
  const to = join(execroot, 'src', name);
  if (!existsSync(to)) cpSync(join(reg, d), to, { recursive: true, dereference: true });
  return `src/${name}/src/lib.rs`;
};
const externs = (name) => CRATES[name].deps.map((d) => `--extern=${d}=deps/lib${d}.rmeta`);
mkdirSync(join(execroot, 'deps'), { recursive: true });
for (const name of crates) srcOf(name);
for (const dep of ['memchr', 'aho_corasick', 'regex_syntax']) {
  if (!crates.includes('regex')) break;
  execFileSync(rustc, [srcOf(dep), `--crate-name=${dep}`, '--crate-type=rlib', '--emit=link,metadata', '--out-dir=deps', '-Ldependency=deps', '--cap-lints=allow', ...CRATES[dep].flags, ...externs(dep)], { cwd: execroot });
}

function inputs(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(join(execroot, d), { withFileTypes: true })) {
      const rel = join(d, e.name);
      if (e.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk('src');
  walk('deps');
  for (const rel of out) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    symlinkSync(join(execroot, rel), join(dir, rel));
  }
}

let n = 0;
function sandbox() {
  const dir = join(ob, 'sandbox', 'linux-sandbox', String(++n), 'execroot', 'ws');
  mkdirSync(join(dir, 'out'), { recursive: true });
  inputs(dir);
  return dir;
}

function args(name, kind, store) {
  return ['--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--rustc-output-format', 'rendered',
    ...(kind === 'meta' ? ['--rustc-quit-on-rmeta', 'true', '--output-file', 'out/meta.output'] : ['--output-file', 'out/full.output']), '--',
    rustc, srcOf(name), `--crate-name=${name}`, '--crate-type=rlib', '--error-format=json', '--json=artifacts',
    '--emit=dep-info,link,metadata', '--out-dir=out', '-Copt-level=0', '-Cdebuginfo=0', '--cap-lints=allow', '-Cmetadata=m1', '-Cextra-filename=-m1',
    '--remap-path-prefix=${output_base}=ob', '--remap-path-prefix=${pwd}=.', ...CRATES[name].flags, ...externs(name), '-Ldependency=deps',
    ...(store ? ['-Cincremental=${output_base}/rustc-incremental'] : [])];
}

/** Resolves with { wall ms, cpu s, took } once the action ends; `t0` is the pair's start. */
function run(dir, argv, env, t0) {
  const timing = join(dir, 'time.txt');
  return new Promise((res, rej) => {
    const c = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timing, process.execPath, '--', bundle, ...argv], { cwd: dir, env: { PATH: process.env.PATH, HOME: homedir(), RULES_RUST_PROCESS_WRAPPER_DEBUG: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (b) => (err += b));
    c.on('close', (code) => {
      const at = performance.now() - t0;
      if (code !== 0) return rej(new Error(`${dir}: exit ${code}: ${err}`));
      const [u, s] = readFileSync(timing, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
      res({ at, cpu: u + s, took: err.includes('pipeline: took the rmeta'), why: err.match(/pipeline: (compiling itself: .*|not producing: .*|pipelining: .*)/)?.[1] });
    });
  });
}

async function pair(name, variant, store) {
  if (store) rmSync(join(ob, 'rustc-incremental'), { recursive: true, force: true });
  mkdirSync(join(ob, 'rustc-incremental'), { recursive: true });
  const env = variant === 'off' ? { SEEDWRAP_PIPELINE: 'off' } : store ? {} : { SEEDWRAP_PIPELINE_DIR: pipeDir };
  const [fullDir, metaDir] = [sandbox(), sandbox()];
  const t0 = performance.now();
  const full = run(fullDir, args(name, 'full', store), env, t0);
  await new Promise((r) => setTimeout(r, stagger));
  const meta = await run(metaDir, args(name, 'meta', store), env, t0);
  const f = await full;
  for (const d of [fullDir, metaDir]) rmSync(dirname(dirname(d)), { recursive: true, force: true });
  if (variant === 'a' && !meta.took) console.error(`${name} ${store ? 'store' : 'plain'}: ${meta.why ?? f.why ?? '?'}`);
  return { rmeta: meta.at, both: Math.max(meta.at, f.at), cpu: meta.cpu + f.cpu, metaCpu: meta.cpu, took: meta.took };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
const load = [loadavg()[0]];
for (let i = 0; i < rounds; i++) {
  for (const name of crates) {
    for (const store of [false, true]) {
      for (const variant of i % 2 ? ['a', 'off'] : ['off', 'a']) {
        const key = `${name} ${store ? 'store' : 'plain'} ${variant}`;
        (results[key] ??= []).push(await pair(name, variant, store));
      }
    }
  }
  load.push(loadavg()[0]);
}
rmSync(ob, { recursive: true, force: true });
const rows = [];
for (const name of crates) {
  for (const mode of ['plain', 'store']) {
    const off = results[`${name} ${mode} off`];
    const a = results[`${name} ${mode} a`];
    const m = (xs, f) => median(xs.map(f));
    rows.push({
      crate: name, mode,
      'cpu off s': m(off, (r) => r.cpu).toFixed(2), 'cpu a s': m(a, (r) => r.cpu).toFixed(2), 'cpu a/off': (m(a, (r) => r.cpu) / m(off, (r) => r.cpu)).toFixed(2),
      'rmeta off ms': Math.round(m(off, (r) => r.rmeta)), 'rmeta a ms': Math.round(m(a, (r) => r.rmeta)), 'rmeta a/off': (m(a, (r) => r.rmeta) / m(off, (r) => r.rmeta)).toFixed(2),
      'both off ms': Math.round(m(off, (r) => r.both)), 'both a ms': Math.round(m(a, (r) => r.both)), 'both a/off': (m(a, (r) => r.both) / m(off, (r) => r.both)).toFixed(2),
      'took': `${a.filter((r) => r.took).length}/${a.length}`,
    });
  }
}
console.log(JSON.stringify({ date: new Date().toISOString(), rounds, stagger, load: load.map((l) => l.toFixed(1)), rows }, null, 1));
