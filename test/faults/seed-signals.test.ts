/**
 * Regression test (was pending; the seed engine now passes it).
 *
 * Was: `seedwrap seed SRC DEST` ignores SIGINT (Ctrl-C) and SIGTERM. src/cli.ts
 * run() installs the one-shot forwarding handlers (`process.on(sig, () =>
 * controller.abort(sig))`) before it dispatches `seed`, and
 * src/seed/command.ts never looks at io.signal: the signal is swallowed, the
 * seed runs to the end and the command exits 0 as if nothing happened.
 * Repro: a 20,000-file linked seed, `node dist/seedwrap.cjs seed seed dest &
 * sleep 0.15; kill -INT $!; wait $!` → exit 0, DEST complete.
 * Expected: stop placing files, remove the staging directory, leave DEST
 * absent/empty, exit 128+n.
 *
 * Bug 2 (the wrapper, after 89bef08 "no child after a signal during seeding"):
 * the new check in src/wrapper/main.ts (`if (io.signal?.aborted) return
 * signalExitCode(...)` right after `await runSeeding(...)`) never sees a
 * signal that arrived during a *synchronous* seed. The sync strategy (the
 * default below 3,000 links / 48 copies, i.e. most seeds) blocks the event
 * loop; the SIGTERM handler (src/cli.ts, `controller.abort(sig)`) is a
 * macrotask queued behind it, while the continuation of `await runSeeding`
 * is a microtask that runs first. So the check passes, `--exit-early true`
 * returns 0 and, without it, the child is started (and only then killed by
 * the late abort). Repro (9,000 linked files, DEST on the same fs):
 *   SEEDWRAP_SEED_STRATEGY=sync    → exit 0 (async → exit 143)
 *   SEEDWRAP_SEED_STRATEGY=threads → usually exit 0 under load too: the main
 *   thread's claim loop is synchronous and often places every file before
 *   the workers boot.
 * Fix: yield one event-loop turn before the check, e.g.
 * `await new Promise((r) => setImmediate(r))` after runSeeding (libuv
 * delivers the queued signal in the poll phase, before the check phase).
 */
import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BUNDLE, destState, isRoot, NODE, scratch, staging } from './helpers.ts';

function bigSeed(root: string): string {
  mkdirSync(join(root, 'originals'));
  for (let f = 0; f < 150; f++) writeFileSync(join(root, 'originals', `f${f}`), `${f}`);
  for (let c = 0; c < 60; c++) {
    mkdirSync(join(root, 'seed', `d${c}`), { recursive: true });
    for (let f = 0; f < 150; f++) linkSync(join(root, 'originals', `f${f}`), join(root, 'seed', `d${c}`, `f${f}`));
  }
  return join(root, 'seed');
}
import { until } from './processes.ts';

describe('seedwrap seed: SIGINT/SIGTERM stop the seed', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: exits %i, DEST absent or empty, no staging', async (sig, code) => {
    const root = scratch('seed-sig');
    bigSeed(root);
    const dest = join(root, 'out', 'dest');
    const child = spawn(NODE, [BUNDLE, 'seed', join(root, 'seed'), dest], { stdio: 'ignore', env: { ...process.env, SEEDWRAP_SEED_STRATEGY: 'sync' } });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await until('staging', () => staging(dest).length > 0 || child.exitCode !== null);
    child.kill(sig);
    expect(await exited).toBe(code);
    expect(destState(dest, undefined)).toMatch(/absent|empty/);
    expect(staging(dest)).toEqual([]);
  });
});

describe('wrapper, sync and threads strategies: a signal during seeding is not lost', () => {
  it.each([
    ['sync', '--exit-early true', ['--exit-early', 'true']],
    ['sync', 'with a child', ['--', '/bin/sh', '-c', 'touch started; exec sleep 60']],
    ['threads', '--exit-early true', ['--exit-early', 'true']],
    ['threads', 'with a child', ['--', '/bin/sh', '-c', 'touch started; exec sleep 60']],
  ])('%s, %s: exits 143 and starts no child', async (strategy, _name, tail) => {
    const root = scratch('wrap-sig-sync');
    const seed = bigSeed(root);
    const dest = join(root, 'out', 'dest');
    const child = spawn(NODE, [BUNDLE, '--copy-seed', seed, dest, '--seed-min-mb', '0', ...tail], {
      cwd: root,
      stdio: 'ignore',
      env: { ...process.env, SEEDWRAP_SEED_STRATEGY: strategy as string },
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await until('staging', () => staging(dest).length > 0 || child.exitCode !== null);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(existsSync(join(root, 'started'))).toBe(false);
  });
});

/**
 * Issue 10, item 7: a seed file replaced by a FIFO between the walk and the
 * placement blocked `seedwrap seed` for ever (a copy opened it; no signal
 * handler can run while a synchronous open blocks), in either placement loop.
 * The fixture swaps the file at the exact moment the plan is made.
 */
describe('a seed file swapped for a FIFO or a device after the walk', () => {
  async function swapRun(kind: 'fifo' | 'device', strategy: string) {
    const root = scratch(`swap-${kind}`);
    const session = join(root, 'seed/c-1ab/s-a-b-c');
    mkdirSync(session, { recursive: true });
    writeFileSync(join(root, 'seed/c-1ab/s-a-b.lock'), '');
    for (let i = 0; i < 20; i++) writeFileSync(join(session, `cgu${i}.o`), `object ${i}`);
    const victim = join(session, 'cgu7.o');
    const fixture = await bundle(root, 'swap-after-plan.ts');
    const dest = join(root, 'out', 'dest');
    const r = await execa(NODE, [fixture, join(root, 'seed'), dest, victim, kind], { reject: false, timeout: 30_000, env: { SEEDWRAP_SEED_STRATEGY: strategy } });
    return { r, dest, victim };
  }

  it.each(['sync', 'threads'])('FIFO, %s: the seed fails naming the file, never opens it, DEST empty, no staging', async (strategy) => {
    const { r, dest, victim } = await swapRun('fifo', strategy);
    expect(r.timedOut).toBe(false); // was: blocked in open(2) for ever
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toBe(`seedwrap seed: cannot seed ${dest}: seed file ${victim} was replaced by something other than a regular file while seeding`);
    expect(destState(dest, undefined)).toBe('empty');
    expect(staging(dest)).toEqual([]);
  });

  it.skipIf(!isRoot)('device (mknod, as root): refused the same way, never opened', async () => {
    const { r, dest, victim } = await swapRun('device', 'sync');
    expect(r.exitCode).toBe(1); // was: the device was opened and its bytes (none) copied as cgu7.o
    expect(String(r.stderr)).toContain(`seed file ${victim} was replaced`);
    expect(destState(dest, undefined)).toBe('empty');
  });
});

/**
 * Issue 10, item 7: SIGTERM is honoured in every seeding phase, the walk
 * included. The walk was one synchronous call: 250 directory symlinks to one
 * 20k-file directory took 45 s to plan, with SIGTERM waiting behind it.
 * Proof of promptness without a timing assertion: the plan's debug line
 * (printed when the walk ends) never appears.
 */
describe('SIGTERM during the walk', () => {
  it('the wrapper stops walking, prints no plan, starts no child, exits 143', async () => {
    const root = scratch('walk-sig');
    const seed = join(root, 'seed');
    mkdirSync(join(seed, 'real'), { recursive: true });
    for (let f = 0; f < 5000; f++) writeFileSync(join(seed, 'real', `f${f}`), '');
    for (let v = 0; v < 150; v++) symlinkSync('real', join(seed, `v${v}`)); // 755,000 paths: seconds of walking
    const dest = join(root, 'out', 'dest');
    const child = spawn(NODE, [BUNDLE, '--copy-seed', seed, dest, '--seed-min-mb', '0', '--', '/bin/sh', '-c', 'touch started'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // Past the first 5,000 files the walk says whether it boots a seed worker: it is walking.
    await until('walking', () => /seed worker/.test(stderr) || child.exitCode !== null);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).not.toMatch(/mirror layout, \d+ files/); // the walk never finished
    expect(existsSync(join(root, 'started'))).toBe(false);
    expect(destState(dest, undefined)).toMatch(/absent|empty/);
    expect(staging(dest)).toEqual([]);
  }, 60_000);
});

async function bundle(dir: string, fixture: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(dir, fixture.replace(/\.ts$/, '.cjs'));
  await build({ entryPoints: [join(import.meta.dirname, '../seed/fixtures', fixture)], outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' });
  return outfile;
}
