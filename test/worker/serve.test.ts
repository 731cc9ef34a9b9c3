import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/wrapper/main.ts';
import { runWorker } from '../../src/worker/index.ts';
import { WorkerClient, alive, barrier, sh } from './client.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'seedwrap-serve-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The worker in this process, over in-memory pipes, with the real core and real children. */
function startWorker(protocol: 'proto' | 'json', startupArgs: string[] = []) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let log = '';
  stderr.on('data', (c: Buffer) => { log += c.toString(); });
  const exit = runWorker(startupArgs, { stdin, stdout, stderr, cwd: root, env: process.env }, main);
  const client = new WorkerClient(stdin, stdout, protocol);
  return { client, exit, stdin, log: () => log, stdoutBytes: stdout };
}

describe.each(['proto', 'json'] as const)('worker loop over %s', (protocol) => {
  it('runs multiplexed requests concurrently, each with its own output', async () => {
    const { client, exit } = startWorker(protocol);
    const gate = join(root, `gate-${protocol}`);
    for (let id = 1; id <= 4; id++) client.send({ requestId: id, arguments: sh(`${barrier(gate, id, 4)}; echo out-${id}; echo err-${id} >&2; exit ${id}`) });
    const res = await Promise.all([1, 2, 3, 4].map((id) => client.response(id)));
    for (const [i, r] of res.entries()) {
      const id = i + 1;
      expect(r.exitCode).toBe(id); // 99 if the children did not all run at once
      expect(r.output.split('\n').sort()).toEqual(['', `err-${id}`, `out-${id}`]);
    }
    client.end();
    expect(await exit).toBe(0);
  }, 120_000);

  it('cancel kills that request\'s child and answers was_cancelled; the others finish', async () => {
    const { client, exit } = startWorker(protocol);
    const pidFile = join(root, `pid-${protocol}`);
    client.send({ requestId: 7, arguments: sh(`echo $$ > ${pidFile}; exec sleep 30`) });
    client.send({ requestId: 8, arguments: sh('sleep 0.3; echo done') });
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 10));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    const t0 = performance.now();
    client.send({ requestId: 7, cancel: true });
    const cancelled = await client.response(7);
    expect(performance.now() - t0).toBeLessThan(15_000); // the child sleeps 30 s: an ignored cancel answers after that
    expect(cancelled).toEqual({ exitCode: 0, output: '', requestId: 7, wasCancelled: true });
    expect(alive(pid)).toBe(false);
    expect(await client.response(8)).toMatchObject({ exitCode: 0, output: 'done\n', wasCancelled: false });
    // A cancel for a finished request is ignored: no second response.
    client.send({ requestId: 8, cancel: true });
    client.end();
    expect(await exit).toBe(0);
    expect(client.responses).toEqual([]);
  });

  it('keeps serving after a failing request', async () => {
    const { client, exit } = startWorker(protocol);
    const bad = await client.request({ requestId: 1, arguments: ['--bogus', 'x', '--', 'true'] });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.output).toMatch(/--bogus/);
    const missing = await client.request({ requestId: 2, arguments: ['--', join(root, 'no-such-program')] });
    expect(missing.exitCode).not.toBe(0);
    expect(missing.output).toMatch(/no-such-program/);
    expect(await client.request({ requestId: 3, arguments: sh('echo fine') })).toMatchObject({ exitCode: 0, output: 'fine\n' });
    client.end();
    expect(await exit).toBe(0);
  });

  it('runs a request in its sandbox_dir, where ${pwd} resolves', async () => {
    const { client, exit } = startWorker(protocol);
    mkdirSync(join(root, 'sb', '1'), { recursive: true });
    const res = await client.request({ requestId: 5, sandboxDir: 'sb/1', arguments: ['--subst', 'pwd=${pwd}', '--', '/bin/sh', '-c', 'pwd; echo "$0"', '${pwd}/x'] });
    expect(res.output).toBe(`${join(root, 'sb', '1')}\n${join(root, 'sb', '1')}/x\n`);
    client.end();
    expect(await exit).toBe(0);
  });

  it('prefixes every request with the startup flags and runs singleplex requests (id 0)', async () => {
    const { client, exit } = startWorker(protocol, ['--subst', 'greeting=hello']);
    expect((await client.request({ arguments: ['--', '/bin/echo', '${greeting}'] })).output).toBe('hello\n');
    expect((await client.request({ arguments: ['--', '/bin/echo', 'again'] })).output).toBe('again\n');
    client.end();
    expect(await exit).toBe(0);
  });

  it('logs to stderr when verbosity > 0, never to stdout', async () => {
    const { client, exit, log } = startWorker(protocol);
    const res = await client.request({ requestId: 3, verbosity: 10, arguments: sh('echo x') });
    expect(res.output).toBe('x\n');
    expect(log()).toMatch(new RegExp(`request 3 \\(${protocol}\\) start`));
    expect(log()).toMatch(/request 3 exit 0 after/);
    client.end();
    expect(await exit).toBe(0);
  });

  it('at EOF, answers in-flight requests before exiting', async () => {
    const { client, exit } = startWorker(protocol);
    client.send({ requestId: 1, arguments: sh('sleep 0.3; echo late') });
    client.end();
    expect(await client.response(1)).toMatchObject({ output: 'late\n' });
    expect(await exit).toBe(0);
  });

  it('answers a request with bad contents and goes on', async () => {
    // Only JSON can frame a request whose fields are wrong but whose id is known.
    if (protocol !== 'json') return;
    const { client, exit, stdin } = startWorker(protocol);
    stdin.write('{"requestId":4,"arguments":"not-a-list"}');
    expect(await client.response(4)).toMatchObject({ exitCode: 1, output: expect.stringMatching(/arguments must be an array/) });
    expect(await client.request({ requestId: 5, arguments: sh('echo ok') })).toMatchObject({ output: 'ok\n' });
    client.end();
    expect(await exit).toBe(0);
  });

  it('reports a malformed frame on stderr and exits non-zero after in-flight requests', async () => {
    const { client, exit, stdin, log } = startWorker(protocol);
    client.send({ requestId: 1, arguments: sh('sleep 0.2; echo survived') });
    stdin.write(protocol === 'proto' ? Buffer.from([0x05, 0x1a, 0x01, 0x02, 0x03, 0x04]) : Buffer.from('{"requestId":2,}'));
    expect(await client.response(1)).toMatchObject({ output: 'survived\n' });
    expect(await exit).toBe(1);
    expect(log()).toMatch(new RegExp(`malformed ${protocol} request on stdin`));
  });
});

describe('worker shutdown', () => {
  it('kills in-flight children when its signal is aborted (SIGTERM from Bazel)', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const controller = new AbortController();
    const exit = runWorker([], { stdin, stdout, stderr, cwd: root, env: process.env, signal: controller.signal }, main);
    const client = new WorkerClient(stdin, stdout, 'proto');
    const pidFile = join(root, 'shutdown.pid');
    client.send({ requestId: 1, arguments: sh(`echo $$ > ${pidFile}; exec sleep 60`) });
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 10));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    controller.abort('SIGTERM');
    expect(await exit).toBe(143);
    expect(alive(pid)).toBe(false);
  });
});

describe('worker shutdown, singleplex', () => {
  it('does not start a queued singleplex request after the shutdown', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const controller = new AbortController();
    const exit = runWorker([], { stdin, stdout, stderr: new PassThrough(), cwd: root, env: process.env, signal: controller.signal }, main);
    const client = new WorkerClient(stdin, stdout, 'proto');
    const first = join(root, 'single-1.pid');
    const second = join(root, 'single-2.pid');
    client.send({ arguments: sh(`echo $$ > ${first}; exec sleep 60`) });
    client.send({ arguments: sh(`echo $$ > ${second}; exec sleep 60`) });
    while (!existsSync(first) || readFileSync(first, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 10));
    controller.abort('SIGTERM');
    expect(await exit).toBe(143);
    expect(alive(Number(readFileSync(first, 'utf8')))).toBe(false);
    expect(existsSync(second)).toBe(false);
  });
});

describe('worker startup', () => {
  it('reports an unfinished frame at EOF', async () => {
    const { stdin, exit, log } = startWorker('proto');
    stdin.end(Buffer.from([0x20, 0x0a]));
    expect(await exit).toBe(1);
    expect(log()).toMatch(/input ended inside a frame: 1 of 32 bytes/);
  });

  it('exits 0 on an empty stdin', async () => {
    const { stdin, exit } = startWorker('proto');
    stdin.end();
    expect(await exit).toBe(0);
  });

  it('rejects a worker flag without its value', async () => {
    const { exit, log } = startWorker('proto', ['--worker-incremental-dir']);
    expect(await exit).not.toBe(0);
    expect(log()).toMatch(/--worker-incremental-dir: missing value/);
  });
});
