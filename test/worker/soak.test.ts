import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureBundle, openFds, rssBytes, spawnWorker } from './spawn.ts';

/**
 * Many requests through one worker process: its RSS and open file descriptors
 * must stay flat (a leaked listener, buffer or pipe per request shows up here).
 * CI runs 6,000 (measured after the first third); the 10,000 of issue 5 is
 *   SEEDWRAP_SOAK_N=10000 npx vitest run test/worker/soak.test.ts
 */
const N = Number(process.env.SEEDWRAP_SOAK_N ?? 6000);
const IN_FLIGHT = 8;
const root = realpathSync(mkdtempSync(join(tmpdir(), 'seedwrap-soak-')));
beforeAll(ensureBundle);
afterAll(() => rmSync(root, { recursive: true, force: true }));

it(`keeps RSS and fds flat over ${N} requests`, { timeout: 60_000 + N * 30 }, async () => {
  // V8 sizes its heap by what survives, and grows it for the first thousands
  // of requests (Node 20: RSS 55 → 87 MiB over ~2,000, then flat through
  // 10,000, docs/worker.md; Node 22 kept growing until ~6,000: +9.5 MiB
  // between requests 500 and 2,000, which failed a 2,000-request run, then
  // +0.3 MiB from 6,000 to 10,000). Pinning the young generation at 2 MiB and
  // capping the old one at 24 MiB keeps that warm-up short and small; a
  // per-request leak still accumulates, and a leak in the JS heap would
  // eventually exhaust the cap and crash the worker.
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=2 --max-old-space-size=24`.trim() };
  const w = spawnWorker('proto', root, ['--subst', 'x=y'], env);
  const pid = w.child.pid!;
  // Quiescent fd count: after one request, with nothing in flight.
  await w.client.request({ requestId: N + 1, arguments: ['--', '/bin/true'] });
  const idleFds = openFds(pid);
  const samples: Array<{ done: number; rss: number; fds: number }> = [];
  const warmup = Math.floor(N / 3);
  let next = 1;
  let done = 0;
  const lane = async () => {
    while (next <= N) {
      const id = next++;
      const res = await w.client.request({ requestId: id, arguments: ['--', '/bin/true'] });
      if (res.exitCode !== 0 || res.output !== '') throw new Error(`request ${id}: ${JSON.stringify(res)}`);
      done++;
      if (done === warmup || done % Math.floor(N / 6) === 0) samples.push({ done, rss: rssBytes(pid), fds: openFds(pid) });
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const ms = performance.now() - t0;
  samples.push({ done, rss: rssBytes(pid), fds: openFds(pid) });
  w.client.end();
  expect(await w.exit).toBe(0);

  const base = samples.find((s) => s.done === warmup)!;
  const last = samples[samples.length - 1]!;
  const mib = (b: number) => (b / 1048576).toFixed(1);
  console.log(
    `soak: ${N} requests in ${(ms / 1000).toFixed(1)} s (${(ms / N).toFixed(2)} ms each, ${IN_FLIGHT} in flight); ` +
      samples.map((s) => `${s.done}: ${mib(s.rss)} MiB ${s.fds} fds`).join(' | '),
  );
  expect(done).toBe(N);
  // Quiescent again at the end: every pipe of every request closed.
  expect(last.fds).toBe(idleFds);
  // A leak of 1.3 KiB per request would add 5 MiB over the 4,000 requests
  // measured at the default N (a 4 KiB Buffer per request added 7.4 MiB over
  // 1,500 requests in a mutation check).
  expect(last.rss - base.rss).toBeLessThan(5 * 1048576);
});
