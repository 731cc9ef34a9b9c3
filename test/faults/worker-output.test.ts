/**
 * Issue 10 item 5: a request printing more than ~512 MiB crashed the worker
 * (uncaught ERR_STRING_TOO_LONG): no answer for it or for the requests in
 * flight, their children orphaned. Now a request keeps the last
 * MAX_REQUEST_OUTPUT_BYTES of its output, says how much it dropped, and every
 * request is answered.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_OUTPUT_BYTES, RequestOutput } from '../../src/worker/output.ts';
import { WorkerClient } from '../worker/client.ts';
import { BUNDLE, NODE, onCleanup, scratch } from './helpers.ts';

const HUGE = 600_000_000;

describe('worker: a request with more output than a string can hold', () => {
  it(`${HUGE} bytes from one request, another request in flight: both answered, the end kept, the worker lives on`, async () => {
    const dir = scratch('worker-huge-output');
    const worker = spawn(NODE, ['--', BUNDLE, '--persistent_worker'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    onCleanup(() => worker.kill('SIGKILL'));
    let log = '';
    worker.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const exited = new Promise<number | null>((r) => worker.on('close', (c) => r(c)));
    const client = new WorkerClient(worker.stdin, worker.stdout, 'json');
    client.send({ requestId: 1, arguments: ['--', '/bin/sh', '-c', `head -c ${HUGE} /dev/zero | tr '\\0' a; echo END`] });
    client.send({ requestId: 2, arguments: ['--', '/bin/sh', '-c', 'sleep 1; echo two >&2; exit 3'] });
    // Was: the worker died (ERR_STRING_TOO_LONG) and neither request was answered.
    const died = exited.then((c) => Promise.reject(new Error(`the worker exited (${c}) before answering: ${log.slice(-500)}`)));
    const [one, two] = await Promise.race([Promise.all([client.response(1), client.response(2)]), died]);
    expect(two).toMatchObject({ exitCode: 3, output: 'two\n' });
    expect(one.exitCode).toBe(0);
    const kept = MAX_REQUEST_OUTPUT_BYTES;
    const note = `seedwrap worker: output too long: the first ${HUGE + 4 - kept} bytes were dropped, the last ${kept} follow\n`;
    expect(one.output.slice(0, note.length)).toBe(note);
    expect(one.output.length).toBe(note.length + kept);
    expect(one.output.endsWith('aaaaEND\n')).toBe(true);
    const three = await client.request({ requestId: 3, arguments: ['--', '/bin/echo', 'alive'] });
    expect(three).toMatchObject({ exitCode: 0, output: 'alive\n' });
    client.end();
    expect(await exited).toBe(0);
    expect(log).not.toMatch(/ERR_STRING_TOO_LONG|internal error/);
  }, 180_000);
});

describe('RequestOutput', () => {
  it('keeps everything up to the cap, byte for byte', async () => {
    const out = new RequestOutput();
    const chunk = Buffer.alloc(MAX_REQUEST_OUTPUT_BYTES / 4, 'x');
    for (let i = 0; i < 4; i++) out.stdout.write(chunk);
    expect(out.text()).toBe('x'.repeat(MAX_REQUEST_OUTPUT_BYTES));
  });
  it('past the cap keeps the last bytes in order (stdout and stderr interleaved) and says how many were dropped', async () => {
    const out = new RequestOutput();
    const n = 3 * MAX_REQUEST_OUTPUT_BYTES + 5;
    let written = '';
    for (let i = 0; written.length < n; i++) {
      const piece = `${i % 10}`.repeat(Math.min(65_536 + (i % 3), n - written.length));
      (i % 2 ? out.stderr : out.stdout).write(piece);
      written += piece;
    }
    const text = out.text();
    const note = `seedwrap worker: output too long: the first ${n - MAX_REQUEST_OUTPUT_BYTES} bytes were dropped, the last ${MAX_REQUEST_OUTPUT_BYTES} follow\n`;
    expect(text.slice(0, note.length)).toBe(note);
    expect(text.slice(note.length) === written.slice(n - MAX_REQUEST_OUTPUT_BYTES)).toBe(true);
  });
});
