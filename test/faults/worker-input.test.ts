/**
 * Garbage on a real worker's stdin (the built bundle with --persistent_worker):
 * random bytes, and valid requests followed by random bytes. The worker must
 * never hang or crash: it answers the valid requests, says once on stderr why
 * it stops, and exits 1 (0 when the bytes happen to be a clean stream).
 */
import { spawn } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeWorkRequestFrame } from '../../src/worker/proto.ts';
import { BUNDLE, fresh, nuke, NODE } from './helpers.ts';

interface Outcome {
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: string;
}

function feed(input: Buffer, timeoutMs = 20_000): Promise<Outcome> {
  const dir = fresh('worker-input');
  return new Promise((resolve, reject) => {
    const w = spawn(NODE, [BUNDLE, '--persistent_worker'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    w.stdout.on('data', (c: Buffer) => out.push(c));
    w.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      w.kill('SIGKILL');
      reject(new Error(`worker hung on ${input.length} bytes: ${input.subarray(0, 64).toString('hex')}`));
    }, timeoutMs);
    w.on('close', (code, signal) => {
      clearTimeout(timer);
      nuke(dir);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr });
    });
    w.stdin.on('error', () => {}); // the worker may stop reading first
    w.stdin.end(input);
  });
}

function expectCleanStop(o: Outcome): void {
  expect(o.signal).toBeNull();
  expect([0, 1]).toContain(o.code);
  expect(o.stderr).not.toMatch(/internal error|RangeError|TypeError|at .*\.cjs:\d+/);
  for (const line of o.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^seedwrap worker: /);
  if (o.code === 1) expect(o.stderr).toMatch(/malformed|cannot|input ended/);
}

describe('the worker process with garbage on stdin', () => {
  it('random bytes: a clean stop with one reason on stderr, never a hang or a crash', async () => {
    const samples = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 400 }),
        fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.from([0x7b, 0x22, ...b])), // looks like JSON
        fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.from([0x05, 0x0a, ...b])), // looks like proto
      ),
      { numRuns: 12, seed: 20261121 },
    );
    for (const bytes of samples) expectCleanStop(await feed(Buffer.from(bytes)));
  }, 240_000);

  it('valid proto requests, then garbage: each valid request is answered before the worker stops', async () => {
    const good = Buffer.concat([1, 2, 3].map((id) => encodeWorkRequestFrame({ requestId: id, arguments: ['--', '/bin/echo', `r${id}`] })));
    const o = await feed(Buffer.concat([good, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]));
    expectCleanStop(o);
    expect(o.code).toBe(1);
    for (const id of [1, 2, 3]) expect(o.stdout.includes(Buffer.from(`r${id}\n`))).toBe(true);
  }, 60_000);

  it('valid JSON requests, then a truncated object: answered, then exit 1 naming the unfinished frame', async () => {
    const text = '{"arguments":["--","/bin/echo","j1"],"requestId":1}{"arguments":["--","/bin/echo","j2"],"requestId":2}{"argum';
    const o = await feed(Buffer.from(text));
    expectCleanStop(o);
    expect(o.code).toBe(1);
    expect(o.stderr).toMatch(/input ended inside a JSON object/);
    expect(o.stdout.toString()).toContain('j1\\n');
    expect(o.stdout.toString()).toContain('j2\\n');
  }, 60_000);
});
