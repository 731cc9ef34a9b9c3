/**
 * Races with real processes against the built bundle: seed files deleted by a
 * concurrent process mid-seed, DEST appearing concurrently (filled, empty, a
 * symlink, a file), and kill -9 / SIGTERM of a seeding seedwrap at random
 * moments, repeated. The soak (scripts/soak.mjs faults) runs the kill loop
 * 200 times; CI runs SEEDWRAP_FAULT_KILLS (default 20) here.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE,
  bytesFor,
  destState,
  filesOf,
  fingerprint,
  NODE,
  runSeed,
  scratch,
  seedArgs,
  staging,
  type Entry,
  withoutLinks,
} from './helpers.ts';

/** `copies` directories of the same `files` hard-linked files: thousands of entries, cheaply. */
function linkedSeed(root: string, files: number, copies: number): string {
  const originals = join(root, 'originals');
  mkdirSync(originals, { recursive: true });
  for (let f = 0; f < files; f++) writeFileSync(join(originals, `f${f}`), bytesFor(f + 1, 64 + (f % 50)));
  const seed = join(root, 'seed');
  for (let c = 0; c < copies; c++) {
    mkdirSync(join(seed, `d${c}`), { recursive: true });
    for (let f = 0; f < files; f++) linkSync(join(originals, `f${f}`), join(seed, `d${c}`, `f${f}`));
  }
  return seed;
}

const STRATEGIES = ['sync', 'async', 'threads'] as const;
/** How the races fell out ("failed" counts a seed that failed cleanly, as allowed): shown only with SEEDWRAP_TEST_VERBOSE=1, since a passing run must not print lines that read like failures. */
const tallyLog = (line: string) => void (process.env.SEEDWRAP_TEST_VERBOSE && console.log(line));
const rand = (n: number) => Math.floor(Math.random() * n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('seed files vanishing mid-seed (a concurrent process deletes from a copy of the seed)', () => {
  it.each(STRATEGIES)('%s: DEST is complete with the right bytes, or empty; no staging; the deleter never touches DEST', async (strategy) => {
    const root = scratch('vanish');
    const seed = linkedSeed(root, 60, 25); // 1,500 entries
    const original = fingerprint(seed);
    const outcomes = { seeded: 0, failed: 0 };
    for (let round = 0; round < 2; round++) {
      const copy = join(root, `copy${round}`);
      cpSync(seed, copy, { recursive: true });
      const dest = join(root, `out${round}`, 'dest');
      // A separate process deletes whole directories and single files while seedwrap runs.
      const victims = Array.from({ length: 10 }, () => join(copy, `d${rand(25)}`, rand(2) ? `f${rand(60)}` : ''));
      const deleter = spawn('sh', ['-c', `sleep 0.${rand(2)}${rand(10)}; rm -rf ${victims.map((v) => `'${v}'`).join(' ')}`], { stdio: 'ignore' });
      const deleted = new Promise((res) => deleter.on('exit', res));
      const r = await runSeed('command', copy, dest, { SEEDWRAP_SEED_STRATEGY: strategy });
      await deleted;
      expect(r.timedOut).toBe(false);
      expect(r.stderr).not.toMatch(/internal error/);
      const state = destState(dest, undefined); // content checked below: the file set depends on the deletions
      outcomes[r.exitCode === 0 ? 'seeded' : 'failed']++;
      if (r.exitCode === 0) {
        expect(state).toBe('complete');
        // Every seeded file has the bytes it had in the seed; nothing was invented.
        for (const [rel, e] of fingerprint(dest)) {
          if (e.type !== 'file') continue;
          expect(e.sha, rel).toBe(original.get(rel)!.sha);
        }
      } else {
        expect(r.stderr).toMatch(/^seedwrap seed: .*ENOENT/);
        expect(state).toMatch(/absent|empty/);
      }
      expect(staging(dest)).toEqual([]);
    }
    expect(withoutLinks(fingerprint(seed))).toEqual(withoutLinks(original));
    tallyLog(`vanish ${strategy}: ${JSON.stringify(outcomes)}`);
  });
});

describe('the staging directory deleted mid-seed by another process', () => {
  // Placement then fails on ENOENT (a link, or a claimer's mkdir: it never
  // recreates the staging directory, see the makeDir unit test in test/seed/dir-maker.test.ts), and
  // what was placed is never published.
  it.each(['sync', 'threads'] as const)('%s: the seed fails or completes, DEST is never partial, no staging is left', async (strategy) => {
    const root = scratch('staging-gone');
    const seed = linkedSeed(root, 60, 100); // 6,000 entries in 100 directories
    const want = filesOf(fingerprint(seed));
    const outcomes = { seeded: 0, failed: 0, missed: 0 };
    for (let round = 0; round < 4; round++) {
      const parent = join(root, `out${round}`);
      mkdirSync(parent);
      const dest = join(parent, 'dest');
      // Polls for the staging directory and deletes it as soon as it has files.
      const deleter = spawn('sh', ['-c', `i=0; while [ $i -lt 20000 ]; do for d in ${parent}/.dest.seedwrap-staging-*/d*; do [ -e "$d" ] && rm -rf ${parent}/.dest.seedwrap-staging-* && exit 0; done; i=$((i+1)); done; exit 1`], { stdio: 'ignore' });
      const deleted = new Promise<number | null>((res) => deleter.on('exit', res));
      const r = await runSeed('command', seed, dest, { SEEDWRAP_SEED_STRATEGY: strategy });
      const hit = (await deleted) === 0;
      expect(r.timedOut).toBe(false);
      expect(r.stderr).not.toMatch(/internal error/);
      const state = destState(dest, want); // fails on a partial DEST
      if (r.exitCode === 0) {
        expect(state).toBe('complete');
        outcomes[hit ? 'seeded' : 'missed']++;
      } else {
        expect(r.stderr).toMatch(/^seedwrap seed: .*ENOENT/);
        expect(state).toMatch(/absent|empty/);
        outcomes.failed++;
      }
      expect(staging(dest)).toEqual([]);
    }
    tallyLog(`staging deleted, ${strategy}: ${JSON.stringify(outcomes)}`);
  });
});

describe('DEST appearing concurrently', () => {
  async function raceDest(make: (dest: string) => void): Promise<{ code: number | null; stderr: string; dest: string; seed: string; before: Map<string, Entry> }> {
    const root = scratch('dest-race');
    const seed = linkedSeed(root, 100, 40);
    const before = fingerprint(seed);
    const dest = join(root, 'out', 'dest');
    mkdirSync(join(root, 'out'));
    const child = spawn(NODE, [BUNDLE, ...seedArgs('command', seed, dest)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SEEDWRAP_SEED_STRATEGY: 'sync' } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // Wait until staging exists (planning is over), then create DEST under its feet.
    const t0 = Date.now();
    while (staging(dest).length === 0 && Date.now() - t0 < 20_000 && child.exitCode === null) await sleep(1);
    make(dest);
    const code = await exited;
    return { code, stderr, dest, seed, before };
  }

  it('filled with someone else\'s file: seedwrap fails clearly and leaves that file alone', async () => {
    const r = await raceDest((dest) => {
      mkdirSync(dest);
      writeFileSync(join(dest, 'theirs'), 'precious');
    });
    if (r.code === 0) throw new Error('seedwrap published before DEST appeared: the race was lost, make the seed larger');
    expect(r.stderr).toMatch(/filled by someone else|not empty/);
    expect(readdirSync(r.dest)).toEqual(['theirs']);
    expect(readFileSync(join(r.dest, 'theirs'), 'utf8')).toBe('precious');
    expect(staging(r.dest)).toEqual([]);
    expect(fingerprint(r.seed)).toEqual(r.before);
  });

  it('an empty directory: replaced by the complete seed (rename over an empty dir)', async () => {
    const r = await raceDest((dest) => mkdirSync(dest));
    expect(r.code, r.stderr).toBe(0);
    expect(destState(r.dest, filesOf(r.before))).toBe('complete');
    expect(staging(r.dest)).toEqual([]);
  });

  it('a symlink to a directory elsewhere: never written through', async () => {
    const elsewhere = scratch('elsewhere');
    writeFileSync(join(elsewhere, 'keep'), 'k');
    const r = await raceDest((dest) => symlinkSync(elsewhere, dest));
    expect(r.code).not.toBe(0);
    expect(readdirSync(elsewhere)).toEqual(['keep']);
    expect(lstatSync(r.dest).isSymbolicLink()).toBe(true);
    expect(staging(r.dest)).toEqual([]);
    expect(fingerprint(r.seed)).toEqual(r.before);
  });

  it('a regular file: fails clearly, the file is kept', async () => {
    const r = await raceDest((dest) => writeFileSync(dest, 'a file'));
    expect(r.code).not.toBe(0);
    expect(readFileSync(r.dest, 'utf8')).toBe('a file');
    expect(staging(r.dest)).toEqual([]);
    expect(fingerprint(r.seed)).toEqual(r.before);
  });
});

/**
 * One kill: start `seedwrap seed` (or the wrapper), wait a random moment,
 * SIGKILL or SIGTERM it, and check the invariants. Exported shape reused by
 * scripts/soak.mjs (which re-implements it in plain JS for the long run).
 */
describe('kill -9 / SIGTERM of a seeding seedwrap at random moments', () => {
  const kills = Number(process.env.SEEDWRAP_FAULT_KILLS ?? 20);

  it(`${kills} random kills: DEST absent or complete, never partial; the seed never changes; leftovers cleaned by the next run`, async () => {
    const root = scratch('kill');
    const seed = linkedSeed(root, 150, 40); // 6,000 files
    const before = fingerprint(seed);
    const want = filesOf(before);
    const dest = join(root, 'out', 'dest');
    mkdirSync(join(root, 'out'));
    const tally = { absent: 0, empty: 0, complete: 0, leftovers: 0, cleaned: 0, sigkill: 0, sigterm: 0 };
    let previousLeftovers: string[] = [];
    for (let i = 0; i < kills; i++) {
      const signal = rand(3) === 0 ? 'SIGTERM' : 'SIGKILL';
      tally[signal === 'SIGKILL' ? 'sigkill' : 'sigterm']++;
      const mode = rand(2) ? 'command' : 'wrapper';
      const child = spawn(NODE, [BUNDLE, ...seedArgs(mode, seed, dest)], {
        stdio: 'ignore',
        env: { ...process.env, SEEDWRAP_SEED_STRATEGY: STRATEGIES[rand(3)]! },
      });
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      await sleep(30 + rand(600));
      child.kill(signal);
      await exited;

      const state = destState(dest, want); // throws on a partial DEST
      tally[state]++;
      const left = staging(dest);
      // A run that got as far as creating its own staging removed the older ones.
      const survivors = previousLeftovers.filter((n) => left.includes(n));
      if (previousLeftovers.length > 0 && state === 'complete') expect(survivors).toEqual([]);
      tally.cleaned += previousLeftovers.length - survivors.length;
      tally.leftovers += left.filter((n) => !previousLeftovers.includes(n)).length;
      expect(left.length).toBeLessThanOrEqual(previousLeftovers.length + 1);
      previousLeftovers = left;
      // Bytes, modes and types never change; link counts only by what DEST and leftovers hold.
      expect(withoutLinks(fingerprint(seed))).toEqual(withoutLinks(before));
      if (state !== 'absent') rmSync(dest, { recursive: true, force: true }); // Bazel deletes outputs before the next action
    }
    // The next complete run cleans every leftover, and then the seed is exactly as it was.
    const final = await runSeed('command', seed, dest);
    expect(final.exitCode, final.stderr).toBe(0);
    expect(final.stdout, final.stderr).toMatch(/^seeded /);
    expect(destState(dest, want)).toBe('complete');
    expect(staging(dest)).toEqual([]);
    rmSync(dest, { recursive: true, force: true });
    expect(fingerprint(seed)).toEqual(before);
    expect(existsSync(join(root, 'out'))).toBe(true);
    tallyLog(`kills: ${JSON.stringify(tally)}`);
  }, 300_000);
});
