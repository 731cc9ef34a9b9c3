// Where dist/seedwrap.cjs spends an action's start-up, beyond Node's own
// bootstrap. Builds variants of the bundle with the options of
// scripts/build.mjs, then measures, interleaved, the wall and CPU time from
// the moment user code starts to process exit (preload.cjs), and separately
// the V8 compile time of each bundle file (compile.cjs).
//
// Usage: node bench/startup/bundle-cost/run.mjs     (RUNS=25; NODE=/path/to/node for the children)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const root = join(here, '..', '..', '..');
const node = process.env.NODE ?? process.execPath;
const runs = Number(process.env.RUNS ?? 25);
const scratch = mkdtempSync(join(tmpdir(), 'seedwrap-bundle-cost-'));

const bundle = async (name, entry, extra = {}) => {
  const outfile = join(scratch, `${name}.cjs`);
  await build({
    absWorkingDir: root, entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs',
    target: 'node20.12', minify: true, legalComments: 'none', charset: 'utf8', logLevel: 'error', ...extra,
  });
  return outfile;
};
const full = await bundle('full', 'bin/seedwrap.ts');
const noCommander = await bundle('no-commander', 'bin/seedwrap.ts', { external: ['commander'] });
const oneShot = await bundle('one-shot-only', join(here, 'oneshot-entry.ts'));
const snippet = (name, code) => {
  const file = join(scratch, `${name}.cjs`);
  writeFileSync(file, code);
  return file;
};

const wrap = ['--', '/bin/true'];
const cases = [
  ['empty script', snippet('empty', ''), []],
  ["require('node:child_process')", snippet('cp', "require('node:child_process');"), []],
  ['… + node:os', snippet('cp-os', "require('node:child_process'); require('node:os');"), []],
  ['… + process.stderr', snippet('cp-stderr', "require('node:child_process'); process.stderr;"), []],
  ['bare spawn wrapper (spawn.cjs)', join(here, 'spawn.cjs'), ['/bin/true']],
  ['seedwrap, one-shot code only', oneShot, wrap],
  ['seedwrap without commander', noCommander, wrap],
  ['seedwrap as built (full)', full, wrap],
];

const results = cases.map(() => ({ wall: [], cpu: [] }));
const out = join(scratch, 'times');
const env = { ...process.env, SEEDWRAP_BENCH_OUT: out };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;
for (let r = 0; r < runs; r++) {
  cases.forEach(([, file, args], i) => {
    rmSync(out, { force: true });
    const p = spawnSync(node, ['-r', join(here, 'preload.cjs'), file, ...args], { env, stdio: 'inherit' });
    if (p.status !== 0) throw new Error(`${file} exited ${p.status}`);
    const [wall, cpu] = readFileSync(out, 'utf8').trim().split(' ').map(Number);
    results[i].wall.push(wall);
    results[i].cpu.push(cpu);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const compileMs = (file) => {
  const times = [];
  for (let r = 0; r < Math.max(9, runs >> 1); r++) {
    times.push(Number(spawnSync(node, [join(here, 'compile.cjs'), file], { env, encoding: 'utf8' }).stdout));
  }
  return median(times);
};

const git = (...args) => spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' }).stdout.trim();
const dirty = git('status', '--porcelain', '--', 'src', 'bin') === '' ? '' : ' (src/bin with uncommitted changes)';
console.log(`sources: ${git('rev-parse', '--short', 'HEAD')}${dirty}`);
console.log(`${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()}; ${runs} interleaved runs; medians; user code only (Node's bootstrap excluded)\n`);
console.log('| case | bundle KiB | wall ms | CPU ms | V8 compile, CPU ms |');
console.log('|---|---|---|---|---|');
cases.forEach(([name, file], i) => {
  const isBundle = [full, noCommander, oneShot].includes(file);
  const kib = isBundle ? (statSync(file).size / 1024).toFixed(1) : '';
  const compile = isBundle ? compileMs(file).toFixed(2) : '';
  console.log(`| ${name} | ${kib} | ${median(results[i].wall).toFixed(1)} | ${median(results[i].cpu).toFixed(1)} | ${compile} |`);
});
rmSync(scratch, { recursive: true, force: true });
