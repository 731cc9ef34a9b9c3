/**
 * Issue 10 item 8: a cancelled action never looks successful and never waits
 * for a grandchild. Was: SIGTERM after the child had exited, while a
 * grandchild (`sleep 120 &`) held its pipes, was swallowed: seedwrap waited
 * for the grandchild, exited 0 and ran the after-success steps; a child that
 * trapped TERM and exited 0 also gave 0. The rule (upstream's wrapper has no
 * handler and dies of the signal): after a forwarded signal n, exit 128+n
 * once the child has exited, whatever its code, and no after-success step.
 * The worker's cancel and shutdown follow it. Hangs fail through timeouts
 * far above the grandchild's wait, never through a timing assertion.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, NODE, onCleanup, scratch } from './helpers.ts';
import { isGone, killQuietly, pidFrom, until } from './processes.ts';
import { WorkerClient } from '../worker/client.ts';

const AFTER_SUCCESS = ['--touch-file', 'touched', '--copy-output', 'src', 'copied', '--write-unused-inputs', 'unused', 'seed'];

function afterSuccessRan(dir: string): string[] {
  return ['touched', 'copied', 'unused'].filter((f) => existsSync(join(dir, f)));
}

async function oneShot(dir: string, script: string, sig: NodeJS.Signals, ready: string, before: () => Promise<void> = async () => {}) {
  writeFileSync(join(dir, 'src'), 'x');
  const wrapper = spawn(NODE, ['--', BUNDLE, ...AFTER_SUCCESS, '--', '/bin/sh', '-c', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  onCleanup(() => killQuietly(wrapper.pid!));
  const exited = new Promise<number | null>((r) => wrapper.on('exit', (c) => r(c)));
  await pidFrom(join(dir, ready));
  await before();
  wrapper.kill(sig);
  return exited;
}

describe('one-shot: a signal to seedwrap', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s after the child exited 0 while a grandchild holds its pipes: exit %i at once, no after-success step', async (sig, code) => {
    const dir = scratch('sig-grandchild');
    const g = join(dir, 'grandchild.pid');
    const c = join(dir, 'child.pid');
    const exit = oneShot(dir, `echo $$ > ${c}; sleep 120 & echo $! > ${g}; echo out; echo err >&2; exit 0`, sig, 'grandchild.pid', async () => {
      onCleanup(() => killQuietly(grandchild));
      const child = await pidFrom(c);
      await until('the child (sh) to have exited', () => isGone(child));
    });
    const grandchild = await pidFrom(g);
    expect(await exit).toBe(code);
    // The grandchild (holding stdout and stderr) was not waited for.
    expect(isGone(grandchild)).toBe(false);
    expect(afterSuccessRan(dir)).toEqual([]);
  }, 60_000);

  it('SIGTERM to a child that traps TERM and exits 0: exit 143, no after-success step', async () => {
    const dir = scratch('sig-trap');
    const r = join(dir, 'ready');
    const code = await oneShot(dir, `trap 'exit 0' TERM; echo $$ > ${r}; while :; do sleep 0.05; done`, 'SIGTERM', 'ready');
    expect(code).toBe(143);
    expect(afterSuccessRan(dir)).toEqual([]);
  }, 60_000);
});

describe('worker: cancel and shutdown follow the same rule', () => {
  function startWorker(dir: string) {
    const worker = spawn(NODE, ['--', BUNDLE, '--persistent_worker'], { cwd: dir, stdio: ['pipe', 'pipe', 'ignore'] });
    onCleanup(() => killQuietly(worker.pid!));
    const exited = new Promise<number | null>((r) => worker.on('exit', (c) => r(c)));
    return { worker, exited, client: new WorkerClient(worker.stdin, worker.stdout, 'json') };
  }
  const grandchildScript = (dir: string) => [...AFTER_SUCCESS, '--', '/bin/sh', '-c', `echo $$ > ${join(dir, 'c1')}; sleep 120 & echo $! > ${join(dir, 'g1')}; exit 0`];

  it('a cancel while the exited child\'s grandchild holds the pipes is answered at once; no after-success step', async () => {
    const dir = scratch('worker-cancel-gc');
    writeFileSync(join(dir, 'src'), 'x');
    const { client, exited } = startWorker(dir);
    client.send({ requestId: 1, arguments: grandchildScript(dir) });
    const grandchild = await pidFrom(join(dir, 'g1'));
    onCleanup(() => killQuietly(grandchild));
    const child = await pidFrom(join(dir, 'c1'));
    await until('the child (sh) to have exited', () => isGone(child));
    client.send({ requestId: 1, cancel: true });
    const res = await client.response(1);
    expect(res.wasCancelled).toBe(true);
    expect(afterSuccessRan(dir)).toEqual([]);
    // The worker lives on and answers the next request.
    const next = await client.request({ requestId: 2, arguments: ['--', '/bin/sh', '-c', 'echo alive'] });
    expect(next).toMatchObject({ exitCode: 0, output: 'alive\n' });
    client.end();
    expect(await exited).toBe(0);
  }, 60_000);

  it('SIGTERM to the worker while a request\'s grandchild holds the pipes: the request answers 143, the worker exits 143 at once', async () => {
    const dir = scratch('worker-term-gc');
    writeFileSync(join(dir, 'src'), 'x');
    const { worker, client, exited } = startWorker(dir);
    client.send({ requestId: 1, arguments: grandchildScript(dir) });
    const grandchild = await pidFrom(join(dir, 'g1'));
    onCleanup(() => killQuietly(grandchild));
    const child = await pidFrom(join(dir, 'c1'));
    await until('the child (sh) to have exited', () => isGone(child));
    const res = client.response(1);
    worker.kill('SIGTERM');
    expect((await res).exitCode).toBe(143);
    expect(await exited).toBe(143);
    expect(afterSuccessRan(dir)).toEqual([]);
  }, 60_000);
});
