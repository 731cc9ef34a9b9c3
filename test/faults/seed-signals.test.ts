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
 * the new check in src/main.ts (`if (io.signal?.aborted) return
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
import { existsSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, destState, NODE, scratch, staging } from './helpers.ts';

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
