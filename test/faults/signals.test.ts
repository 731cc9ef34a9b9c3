/**
 * Signals against the built bundle with real processes: SIGTERM and SIGINT to
 * a one-shot seedwrap reach a real, busy rustc; seedwrap exits after it with
 * 128+n and no rustc is left. Also: a signal that arrives while seedwrap is
 * still seeding. Worker mode: worker-signals.test.ts; `seedwrap seed`:
 * seed-signals.test.ts.
 */
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, destState, fingerprint, NODE, onCleanup, scratch, staging, withoutLinks } from './helpers.ts';
import { childrenOf, comm, isGone, killQuietly, pidFrom, until, writeLongCrate } from './processes.ts';

const RUSTC = [join(homedir(), '.cargo/bin/rustc'), '/usr/bin/rustc'].find((p) => statSync(p, { throwIfNoEntry: false }));

/**
 * rustc dies of SIGTERM; since 1.78 it stops on SIGINT with its own handler
 * and exits 1. Either way seedwrap reports 128+n: a cancelled action never
 * takes the child's code (upstream's wrapper dies of the signal itself;
 * issue 10 item 8, wrapper-signals.test.ts).
 */
const CODES = [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const;

describe.skipIf(RUSTC === undefined)('one-shot: a signal to seedwrap reaches a real rustc', () => {
  it.each(CODES)('%s: rustc stops, seedwrap exits %i after it, no rustc left', async (sig, code) => {
    const dir = scratch('sig-rustc');
    const src = writeLongCrate(dir);
    const wrapper = spawn(NODE, [BUNDLE, '--', RUSTC!, '--crate-type', 'lib', src, '--out-dir', join(dir, 'out')], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => wrapper.on('exit', (c) => r(c)));
    onCleanup(() => killQuietly(wrapper.pid!));
    const rustc = await until('rustc to start', () => childrenOf(wrapper.pid!).find((p) => comm(p) === 'rustc'));
    onCleanup(() => killQuietly(rustc));
    await new Promise((r) => setTimeout(r, 300)); // well inside const evaluation
    expect(isGone(rustc)).toBe(false);
    wrapper.kill(sig);
    expect(await exited).toBe(code);
    await until('rustc to be gone', () => isGone(rustc), 5_000);
  });
});

/** 9,000 hard-linked files: long enough to signal seedwrap mid-seed. */
function bigSeed(root: string): string {
  const originals = join(root, 'originals');
  mkdirSync(originals);
  for (let f = 0; f < 150; f++) writeFileSync(join(originals, `f${f}`), `file ${f}\n`);
  const seed = join(root, 'seed');
  for (let c = 0; c < 60; c++) {
    mkdirSync(join(seed, `d${c}`), { recursive: true });
    for (let f = 0; f < 150; f++) linkSync(join(originals, `f${f}`), join(seed, `d${c}`, `f${f}`));
  }
  return seed;
}

describe('one-shot: a signal while seedwrap is still seeding', () => {
  // Every strategy (the sync one used to miss the signal: seed-signals.test.ts).
  it.each(['sync', 'async', 'threads'])('%s: SIGTERM: seedwrap exits 143 without starting the child, DEST is absent, empty or complete, the seed unchanged', async (strategy) => {
    const root = scratch('sig-seed');
    const seed = bigSeed(root);
    const before = fingerprint(seed);
    const dest = join(root, 'out', 'dest');
    const pidFile = join(root, 'child.pid');
    const wrapper = spawn(
      NODE,
      [BUNDLE, '--copy-seed', seed, dest, '--seed-min-mb', '0', '--', '/bin/sh', '-c', `echo $$ > ${pidFile}; exec sleep 60`],
      { cwd: root, stdio: 'ignore', env: { ...process.env, SEEDWRAP_SEED_STRATEGY: strategy } },
    );
    const exited = new Promise<number | null>((r) => wrapper.on('exit', (c) => r(c)));
    onCleanup(() => wrapper.exitCode === null && wrapper.kill('SIGTERM'));
    await until('staging to appear', () => staging(dest).length > 0 || wrapper.exitCode !== null, 20_000);
    wrapper.kill('SIGTERM');
    // The seed is abandoned (or, if it was already published, kept whole) and
    // no child is started: the action is being cancelled.
    expect(await exited).toBe(143);
    const childPid = await pidFrom(pidFile, 1_000).catch(() => undefined);
    if (childPid !== undefined) killQuietly(childPid);
    expect(childPid, 'no child is started after a signal during seeding').toBeUndefined();
    expect(destState(dest, undefined)).toMatch(/absent|empty|complete/);
    expect(staging(dest)).toEqual([]);
    expect(withoutLinks(fingerprint(seed))).toEqual(withoutLinks(before));
  });

  it.each(['sync', 'async', 'threads'])('%s: SIGTERM with --exit-early true: exits 143, not 0 (a cancelled action does not report success)', async (strategy) => {
    const root = scratch('sig-seed-early');
    const seed = bigSeed(root);
    const dest = join(root, 'out', 'dest');
    const wrapper = spawn(NODE, [BUNDLE, '--copy-seed', seed, dest, '--seed-min-mb', '0', '--exit-early', 'true'], {
      cwd: root,
      stdio: 'ignore',
      env: { ...process.env, SEEDWRAP_SEED_STRATEGY: strategy },
    });
    const exited = new Promise<number | null>((r) => wrapper.on('exit', (c) => r(c)));
    onCleanup(() => wrapper.exitCode === null && wrapper.kill('SIGKILL'));
    await until('staging to appear', () => staging(dest).length > 0 || wrapper.exitCode !== null, 20_000);
    wrapper.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(destState(dest, undefined)).toMatch(/absent|empty|complete/);
    expect(staging(dest)).toEqual([]);
  });
});
