/**
 * Load, at CI counts, through the same code as the long soak
 * (scripts/soak.mjs): 8 seedwrap processes seeding one source at once (to 8
 * DESTs; to one DEST: exactly one winner, the rest cold, nothing partial),
 * wrapper runs in a row, and the worker under 4-way multiplexing with stable
 * fds and RSS. Counts: SEEDWRAP_LOAD_RUNS (default 100), SEEDWRAP_LOAD_REQUESTS
 * (default 1000).
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module without types, shared with the soak.
import { soakConcurrent, soakWorker, soakWrapper } from '../../scripts/soak.mjs';
import { BUNDLE } from './helpers.ts';

interface Result {
  failures: string[];
  [k: string]: unknown;
}

const runs = Number(process.env.SEEDWRAP_LOAD_RUNS ?? 100);
const requests = Number(process.env.SEEDWRAP_LOAD_REQUESTS ?? 1000);

describe('load', () => {
  it('8 processes seed one source at once: 8 DESTs all complete; one DEST: exactly one winner, 7 cold, nothing partial', async () => {
    const r = (await soakConcurrent({ bundle: BUNDLE, procs: 8, rounds: 1 })) as Result & { distinctComplete: number; sameWinners: number[]; sameCold: number };
    expect(r.failures).toEqual([]);
    expect(r.distinctComplete).toBe(8);
    expect(r.sameWinners).toEqual([1]);
    expect(r.sameCold).toBe(7);
  }, 120_000);

  it(`${runs} wrapper runs in a row: every exit code, stderr line, stdout file and expanded param file right`, async () => {
    const r = (await soakWrapper({ bundle: BUNDLE, runs })) as Result & { ok: number };
    expect(r.failures.slice(0, 5)).toEqual([]);
    expect(r.ok).toBe(runs);
  }, 300_000);

  it(`the worker, 4-way multiplexed, ${requests} requests (successes, failures, cancels): all answered right, fds and RSS stable`, async () => {
    const r = (await soakWorker({ bundle: BUNDLE, requests, concurrency: 4 })) as Result & { ok: number; cancelled: number; workerExit: number };
    expect(r.failures.slice(0, 5)).toEqual([]);
    expect(r.ok + r.cancelled).toBe(requests);
    expect(r.workerExit).toBe(0);
  }, 300_000);
});
