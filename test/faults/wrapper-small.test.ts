/**
 * Issue 10 item 11, the wrapper and worker parts, against the built bundle:
 * a NUL byte in an argument or env entry (was "internal error (please
 * report)" and a stack trace), proto2 group fields in a WorkRequest (ended the
 * worker, though docs/worker.md says unknown fields of every wire type are
 * skipped), and a missing sandbox_dir (reported as ENOENT on the program).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { encodeWorkRequestFrame, readLengthPrefix } from '../../src/worker/proto.ts';
import { WorkerClient } from '../worker/client.ts';
import { BUNDLE, NODE, onCleanup, scratch } from './helpers.ts';

async function seedwrap(dir: string, args: string[]) {
  return execa(NODE, ['--', BUNDLE, ...args], { cwd: dir, reject: false, timeout: 30_000 });
}

function startWorker(dir: string, protocol: 'proto' | 'json') {
  const worker = spawn(NODE, ['--', BUNDLE, '--persistent_worker'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  onCleanup(() => worker.kill('SIGKILL'));
  let log = '';
  worker.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<number | null>((r) => worker.on('close', (c) => r(c)));
  return { worker, exited, log: () => log, client: new WorkerClient(worker.stdin, worker.stdout, protocol) };
}

describe('a NUL byte where the child needs a C string', () => {
  it('in an --arg-file line: one line naming the argument, exit 1', async () => {
    const dir = scratch('nul-arg');
    writeFileSync(join(dir, 'args'), 'ok\na\0b\n');
    const r = await seedwrap(dir, ['--arg-file', 'args', '--', '/bin/echo']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe('seedwrap: argument 2 of the child, "a\\u0000b", contains a NUL byte, which no program can receive');
  });
  it('in an --env-file value: one line naming the variable, exit 1', async () => {
    const dir = scratch('nul-env');
    writeFileSync(join(dir, 'env'), 'GOOD=1\nBAD=x\0y\n');
    const r = await seedwrap(dir, ['--env-file', 'env', '--', '/bin/true']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe('seedwrap: environment variable "BAD" of the child contains a NUL byte, which no program can receive');
  });
  it('in a worker request argument: that request answers exit 1 with the line; the worker lives on', async () => {
    const dir = scratch('nul-worker');
    const { client, exited, log } = startWorker(dir, 'json');
    const bad = await client.request({ requestId: 1, arguments: ['--', '/bin/echo', 'a\0b'] });
    expect(bad).toMatchObject({ exitCode: 1, output: 'seedwrap: argument 1 of the child, "a\\u0000b", contains a NUL byte, which no program can receive\n' });
    expect(await client.request({ requestId: 2, arguments: ['--', '/bin/echo', 'alive'] })).toMatchObject({ exitCode: 0, output: 'alive\n' });
    client.end();
    expect(await exited).toBe(0);
    expect(log()).not.toMatch(/internal error/);
  });
});

describe('worker: proto2 group fields in a WorkRequest are skipped', () => {
  it('a request with an unknown group (nested) is answered, and so is the next', async () => {
    const dir = scratch('proto-group');
    const { worker, client, exited } = startWorker(dir, 'proto');
    const frame = encodeWorkRequestFrame({ requestId: 1, arguments: ['--', '/bin/echo', 'grouped'] });
    const p = readLengthPrefix(frame, 0)!;
    const group = Buffer.from([(9 << 3) | 3, (1 << 3) | 0, 7, (7 << 3) | 3, (7 << 3) | 4, (9 << 3) | 4]);
    const msg = Buffer.concat([group, frame.subarray(p.next)]);
    worker.stdin.write(Buffer.concat([Buffer.from([msg.length]), msg]));
    expect(await client.response(1)).toMatchObject({ exitCode: 0, output: 'grouped\n' });
    expect(await client.request({ requestId: 2, arguments: ['--', '/bin/echo', 'next'] })).toMatchObject({ exitCode: 0, output: 'next\n' });
    client.end();
    expect(await exited).toBe(0);
  });
});

describe('worker: a sandbox_dir that does not exist', () => {
  it('is named in the answer (exit 1), not reported as ENOENT on the program; the worker lives on', async () => {
    const dir = scratch('sandbox-missing');
    const { client, exited } = startWorker(dir, 'json');
    const res = await client.request({ requestId: 1, sandboxDir: 'bazel-workers/gone', arguments: ['--', '/bin/echo', 'x'] });
    expect(res.exitCode).toBe(1);
    expect(res.output).toBe(`seedwrap: sandbox_dir bazel-workers/gone: cannot use ${join(dir, 'bazel-workers/gone')}: ENOENT (${join(dir, 'bazel-workers/gone')})\n`);
    writeFileSync(join(dir, 'file'), '');
    const notDir = await client.request({ requestId: 2, sandboxDir: 'file', arguments: ['--', '/bin/echo', 'x'] });
    expect(notDir).toMatchObject({ exitCode: 1, output: `seedwrap: sandbox_dir file: ${join(dir, 'file')} is not a directory\n` });
    expect(await client.request({ requestId: 3, arguments: ['--', '/bin/echo', 'alive'] })).toMatchObject({ exitCode: 0, output: 'alive\n' });
    client.end();
    expect(await exited).toBe(0);
  });
});
