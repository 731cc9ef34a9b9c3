/**
 * In-process seeding timer for the benchmark (bundled by bench/seed/bench.mjs;
 * not part of seedwrap). Usage:
 *   node harness.cjs SRC DESTPARENT RUNS [sync|async|threads|auto] [writable]
 * Seeds SRC into DESTPARENT/run-<i> RUNS times (deleting each result outside
 * the timed region) and prints one JSON line: the median ms and the last report.
 */
import { rmSync } from 'node:fs';
import { seed, type SeedReport } from '../../src/seed/index.ts';

const [src, parent, runsArg, strategy = 'auto', writable = ''] = process.argv.slice(2);
if (src === undefined || parent === undefined) throw new Error('usage: harness SRC DESTPARENT RUNS [strategy] [writable]');
if (strategy !== 'auto') process.env.SEEDWRAP_SEED_STRATEGY = strategy;
const times: number[] = [];
let last: SeedReport | undefined;
for (let i = 0; i < Number(runsArg ?? 5); i++) {
  const dest = `${parent}/run-${i}`;
  rmSync(dest, { recursive: true, force: true });
  const t = performance.now();
  last = await seed(src, dest, { minBytes: 0, writableWorkProducts: writable === 'writable' });
  times.push(performance.now() - t);
  rmSync(dest, { recursive: true, force: true });
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(JSON.stringify({ median, times: times.map((t) => +t.toFixed(2)), report: { ...last, skipped: last?.skipped.length } }));
