// Where a one-shot action's start-up goes, user code only (from a `-r`
// preload to exit, bundle-cost/preload.cjs: Node's own bootstrap, the noisiest
// part on a shared machine, is left out), all variants interleaved, run by run:
//   empty            an empty .cjs
//   spawn            the bare spawn script (bundle-cost/spawn.cjs): the floor of any Node wrapper
//   BUNDLE           each bundle given, as `node BUNDLE -- /bin/true`
//   BUNDLE -chunks   the same file without its `//chunk N` lines (what the lazy chunks cost an action)
//   BUNDLE compile   V8 compiling the file, nothing run (bundle-cost/compile.cjs)
//
//   node bench/startup/parts.mjs [--runs N] [BUNDLE...]     (default: dist/seedwrap.cjs, 40 runs)
// Prints medians of wall and CPU ms, and each one's ratio to `spawn`; the
// load average before and after.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const here = import.meta.dirname;
const root = join(here, '../..');
const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const runs = runsAt < 0 ? 40 : Number(argv.splice(runsAt, 2)[1]);
const bundles = argv.length > 0 ? argv : [join(root, 'dist/seedwrap.cjs')];
const node = process.env.NODE ?? process.execPath;
const scratch = mkdtempSync(join(tmpdir(), 'seedwrap-parts-'));
const out = join(scratch, 'times');
const env = { ...process.env, SEEDWRAP_BENCH_OUT: out };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;

const empty = join(scratch, 'empty.cjs');
writeFileSync(empty, '');
const cases = [
  ['empty', empty, []],
  ['spawn', join(here, 'bundle-cost/spawn.cjs'), ['/bin/true']],
];
for (const [i, b] of bundles.entries()) {
  const name = bundles.length > 1 ? `${i}:${basename(b)}` : basename(b);
  const text = readFileSync(b, 'latin1');
  const stripped = join(scratch, `${i}-nochunks.cjs`);
  // Since 2026-12-07 the main program is a chunk too, the one the file's own script loads (`load(N);`): kept.
  const mainChunk = /\nload\((\d+)\);\n/.exec(text)?.[1];
  writeFileSync(stripped, text.split('\n').filter((l) => !/^\/\/chunk \d+ "/.test(l) || l.startsWith(`//chunk ${mainChunk} "`)).join('\n'), 'latin1');
  cases.push([name, b, ['--', '/bin/true']], [`${name} -chunks`, stripped, ['--', '/bin/true']]);
}

const times = cases.map(() => ({ wall: [], cpu: [] }));
const load0 = loadavg()[0];
for (let r = 0; r < runs; r++) {
  for (let k = 0; k < cases.length; k++) {
    const c = (k + r) % cases.length; // each run starts at the next case
    const [, file, args] = cases[c];
    rmSync(out, { force: true });
    const p = spawnSync(node, ['-r', join(here, 'bundle-cost/preload.cjs'), file, ...args], { env, stdio: 'inherit' });
    if (p.status !== 0) throw new Error(`${file} exited ${p.status}`);
    const [wall, cpu] = readFileSync(out, 'utf8').trim().split(' ').map(Number);
    times[c].wall.push(wall);
    times[c].cpu.push(cpu);
  }
}
const compile = (file) => {
  const xs = [];
  for (let r = 0; r < Math.max(9, runs >> 1); r++) xs.push(Number(spawnSync(node, [join(here, 'bundle-cost/compile.cjs'), file], { env, encoding: 'utf8' }).stdout));
  return median(xs);
};
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const med = times.map((t) => ({ wall: median(t.wall), cpu: median(t.cpu) }));
const spawnAt = 1;
console.log(`${new Date().toISOString()}; ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()}; ${runs} interleaved runs; load ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
console.log('| case | wall ms | CPU ms | wall / spawn | CPU / spawn | V8 compile of the file, CPU ms |');
console.log('|---|---|---|---|---|---|');
cases.forEach(([name, file], i) => {
  const c = i >= 2 ? compile(file).toFixed(2) : '';
  console.log(`| ${name} | ${med[i].wall.toFixed(2)} | ${med[i].cpu.toFixed(2)} | ${(med[i].wall / med[spawnAt].wall).toFixed(3)} | ${(med[i].cpu / med[spawnAt].cpu).toFixed(3)} | ${c} |`);
});
rmSync(scratch, { recursive: true, force: true });
