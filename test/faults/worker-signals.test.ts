/**
 * Regression test. Was: in worker mode seedwrap installed no SIGTERM/SIGINT
 * handler, so the signal killed the worker with Node's default action and
 * every in-flight request's rustc was orphaned. Bazel stops non-sandboxed
 * workers with SIGTERM to the worker's pid only. Now src/cli.ts passes an
 * AbortSignal to runWorker, which forwards the signal to every in-flight child,
 * waits for them and exits 128+n.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeWorkRequestFrame } from '../../src/worker/proto.ts';
import { BUNDLE, NODE, onCleanup, scratch } from './helpers.ts';
import { isGone, killQuietly, pidFrom, until } from './processes.ts';

describe('worker mode: a signal to the worker reaches every in-flight child', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s: the 4 in-flight children are gone and the worker exits %i', async (sig, code) => {
    const dir = scratch('worker-sig');
    const worker = spawn(NODE, [BUNDLE, '--persistent_worker'], { cwd: dir, stdio: ['pipe', 'pipe', 'ignore'] });
    const exited = new Promise<number | null>((r) => worker.on('exit', (c) => r(c)));
    for (let id = 1; id <= 4; id++) {
      worker.stdin.write(encodeWorkRequestFrame({ requestId: id, arguments: ['--', '/bin/sh', '-c', `echo $$ > ${join(dir, `p${id}`)}; exec sleep 60`] }));
    }
    const pids: number[] = [];
    for (let id = 1; id <= 4; id++) pids.push(await pidFrom(join(dir, `p${id}`)));
    for (const pid of pids) onCleanup(() => killQuietly(pid));
    worker.kill(sig);
    expect(await exited).toBe(code);
    for (const pid of pids) await until(`child ${pid} to be gone`, () => isGone(pid), 5_000);
  });
});
