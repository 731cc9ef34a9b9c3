// Prints the medians, the ratios the start-up target is about, and the max
// RSS, from hyperfine JSON exports (one per round, times pooled) and a
// `name<TAB>KiB` file written by GNU time.
// Usage: node summarize.mjs startup.rss.tsv round1.json [round2.json ...]
import { readFileSync } from 'node:fs';

const [rssPath, ...jsonPaths] = process.argv.slice(2);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const rounds = jsonPaths.map((p) => JSON.parse(readFileSync(p, 'utf8')).results);
const names = rounds[0].map((r) => r.command);
const pooled = new Map(names.map((n) => [n, { times: [], cpu: [] }]));
for (const results of rounds) {
  for (const r of results) {
    pooled.get(r.command).times.push(...r.times.map((t) => t * 1000));
    pooled.get(r.command).cpu.push((r.user + r.system) * 1000);
  }
}

const rss = new Map();
for (const line of readFileSync(rssPath, 'utf8').trim().split('\n').slice(1)) {
  const [name, kib] = line.split('\t');
  rss.set(name, [...(rss.get(name) ?? []), Number(kib)]);
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = new Map(names.map((n) => [n, median(pooled.get(n).times)]));
const cpu = new Map(names.map((n) => [n, mean(pooled.get(n).cpu)]));
const mins = new Map(names.map((n) => [n, Math.min(...pooled.get(n).times)]));
const floor = ms.get('empty-node');
const runs = pooled.get(names[0]).times.length;
console.log(`\n${rounds.length} round(s), ${runs} runs per row in all`);
console.log('| variant | median ms | min ms | user+sys ms (mean) | × empty-node (medians) | × empty-node (CPU) | max RSS MiB (median of 10) |');
console.log('|---|---|---|---|---|---|---|');
for (const n of names) {
  const mem = rss.has(n) ? (median(rss.get(n)) / 1024).toFixed(1) : '?';
  console.log(`| ${n} | ${ms.get(n).toFixed(1)} | ${mins.get(n).toFixed(1)} | ${cpu.get(n).toFixed(1)} | ${(ms.get(n) / floor).toFixed(3)} | ${(cpu.get(n) / cpu.get('empty-node')).toFixed(3)} | ${mem} |`);
}

const ratio = (m, a, b) => (m.has(a) && m.has(b) ? (m.get(a) / m.get(b)).toFixed(3) : 'n/a');
const pairs = [
  ['seedwrap', 'empty-node', '  (target ≤ 1.10)'],
  ['seedwrap-bin', 'empty-node', ''],
  ['node-spawn', 'empty-node', '  (any Node wrapper that spawns)'],
  ['seedwrap', 'node-spawn', '  (what the bundle adds; target ≤ 1.05)'],
  ['seedwrap-bin', 'spawn-bin', '  (the same, launched through the bundle\'s #! line)'],
  ['seedwrap', 'native', ''],
];
console.log('\nratios: of wall-clock medians [of CPU means, of minima]');
for (const [a, b, note] of pairs) {
  const perRound = rounds.map((results) => ratio(new Map(results.map((r) => [r.command, median(r.times)])), a, b));
  const spread = rounds.length > 1 ? `  per round: ${perRound.join(' ')}` : '';
  console.log(`${`${a} / ${b}`.padEnd(26)} = ${ratio(ms, a, b)} [${ratio(cpu, a, b)}, ${ratio(mins, a, b)}]${note}${spread}`);
}
