// Cross-check for imports.sh, steadier on a loaded machine: the same entries
// (built by imports.sh under SCRATCH), run interleaved, timed from the moment
// user code starts to process exit (bundle-cost/preload.cjs), so the noise of
// Node's ~35 ms bootstrap is left out. Medians of wall and CPU ms, minus the
// matching empty-script floor.
//
// Usage: bench/startup/imports.sh first, then
//        node bench/startup/imports-inproc.mjs   (RUNS=25, SCRATCH=/tmp/seedwrap-bench-imports, NODE=)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const scratch = process.env.SCRATCH ?? '/tmp/seedwrap-bench-imports';
const node = process.env.NODE ?? process.execPath;
const runs = Number(process.env.RUNS ?? 25);
const names = ['child_process', 'commander', 'fast-glob', 'graceful-fs', 'p-limit', 'execa', 'zod', 'zod-mini', 'bufbuild-protobuf'];
const esmOnly = new Set(['p-limit', 'execa', 'bufbuild-protobuf']);

const variants = [['floor-cjs', join(scratch, 'entries', 'floor.cjs')], ['floor-mjs', join(scratch, 'entries', 'floor.mjs')]];
for (const name of names) {
  const ext = esmOnly.has(name) ? 'mjs' : 'cjs';
  variants.push([`${name} unbundled`, join(scratch, 'entries', `${name}.${ext}`)]);
  variants.push([`${name} bundled`, join(scratch, 'bundles', `${name}.cjs`)]);
  variants.push([`${name} never called`, join(scratch, 'unused', `${name}.cjs`)]);
}
for (const [, file] of variants) if (!existsSync(file)) throw new Error(`${file} is missing: run bench/startup/imports.sh first`);

const out = join(scratch, 'inproc-times');
const env = { ...process.env, SEEDWRAP_BENCH_OUT: out };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;
const times = new Map(variants.map(([v]) => [v, { wall: [], cpu: [] }]));
for (let r = 0; r < runs; r++) {
  for (const [v, file] of variants) {
    rmSync(out, { force: true });
    const p = spawnSync(node, ['-r', join(here, 'bundle-cost', 'preload.cjs'), file], { env, stdio: 'inherit' });
    if (p.status !== 0) throw new Error(`${file} exited ${p.status}`);
    const [wall, cpu] = readFileSync(out, 'utf8').trim().split(' ').map(Number);
    times.get(v).wall.push(wall);
    times.get(v).cpu.push(cpu);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const m = (v, k) => median(times.get(v)[k]);
const d = (x) => (x >= 0 ? '+' : '') + x.toFixed(1);
console.log(`node ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()}; ${runs} interleaved runs; median ms from user code start to exit, minus the floor`);
console.log(`floor: .cjs ${m('floor-cjs', 'wall').toFixed(1)} wall / ${m('floor-cjs', 'cpu').toFixed(1)} CPU; .mjs ${m('floor-mjs', 'wall').toFixed(1)} / ${m('floor-mjs', 'cpu').toFixed(1)}\n`);
console.log('| import | unbundled (wall / CPU) | bundled (wall / CPU) | bundled, never called (wall / CPU) |');
console.log('|---|---|---|---|');
for (const name of names) {
  const f = esmOnly.has(name) ? 'floor-mjs' : 'floor-cjs';
  const cell = (v, floor) => `${d(m(v, 'wall') - m(floor, 'wall'))} / ${d(m(v, 'cpu') - m(floor, 'cpu'))}`;
  console.log(`| ${name}${esmOnly.has(name) ? ' (ESM)' : ''} | ${cell(`${name} unbundled`, f)} | ${cell(`${name} bundled`, 'floor-cjs')} | ${cell(`${name} never called`, 'floor-cjs')} |`);
}
