// Table of import costs from imports.sh's per-case hyperfine exports
// (DIR/<case>.round<N>.json, times pooled over rounds): each variant minus the
// floor measured in the same runs (.mjs floor for an unbundled ESM entry,
// .cjs otherwise), as wall-clock medians and as user+sys CPU means.
// Usage: node summarize-imports.mjs DIR case...
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, ...cases] = process.argv.slice(2);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const esmOnly = new Set(['p-limit', 'execa', 'bufbuild-protobuf']);
const d = (x) => (x >= 0 ? '+' : '') + x.toFixed(1);

function load(name) {
  const files = readdirSync(dir).filter((f) => f.startsWith(`${name}.round`) && f.endsWith('.json'));
  const pooled = {};
  for (const f of files) {
    for (const r of JSON.parse(readFileSync(join(dir, f), 'utf8')).results) {
      const p = (pooled[r.command] ??= { times: [], cpu: [] });
      p.times.push(...r.times.map((t) => t * 1000));
      p.cpu.push((r.user + r.system) * 1000);
    }
  }
  const wall = Object.fromEntries(Object.entries(pooled).map(([k, v]) => [k, median(v.times)]));
  const cpu = Object.fromEntries(Object.entries(pooled).map(([k, v]) => [k, mean(v.cpu)]));
  return { wall, cpu, rounds: files.length, runs: pooled['floor-cjs'].times.length };
}

const rows = cases.map((name) => [name, load(name)]);
console.log(`\n${rows[0][1].rounds} round(s), ${rows[0][1].runs} runs per variant; Δ = variant minus the floor of the same runs`);
console.log('| import | floor ms (wall / CPU) | Δ unbundled (wall / CPU) | Δ bundled (wall / CPU) | Δ bundled, never called (wall / CPU) | bundle KiB |');
console.log('|---|---|---|---|---|---|');
for (const [name, { wall, cpu }] of rows) {
  const floor = esmOnly.has(name) ? 'floor-mjs' : 'floor-cjs';
  const bytes = Number(readFileSync(join(dir, `${name}.size`), 'utf8').split(' ')[2]);
  const pair = (v, f) => `${d(wall[v] - wall[f])} / ${d(cpu[v] - cpu[f])}`;
  console.log(
    `| ${name}${esmOnly.has(name) ? ' (ESM)' : ''} | ${wall['floor-cjs'].toFixed(1)} / ${cpu['floor-cjs'].toFixed(1)} | ${pair('unbundled', floor)} | ${pair('bundled', 'floor-cjs')} | ${pair('bundled-unused', 'floor-cjs')} | ${(bytes / 1024).toFixed(1)} |`,
  );
}
