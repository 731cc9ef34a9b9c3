import { describe, expect, it } from 'vitest';
import { encodeWorkRequestFrame } from '../../src/worker/proto.ts';
import { AutoProtocol, detectProtocol } from '../../src/worker/protocol.ts';
import { FramingError, type WorkRequest } from '../../src/worker/messages.ts';
import { jsonRequest } from './client.ts';

/** Requests of assorted shapes: empty, multi-byte UTF-8, a body longer than 127 bytes (2-byte prefix). */
const REQUESTS: Array<Partial<WorkRequest>> = [
  { arguments: ['--', 'rustc', 'lib.rs'], requestId: 1 },
  {},
  { arguments: ['{"not":"json}', 'ü✓ 😀', 'a\\"b'], requestId: 2, verbosity: 1 },
  { arguments: ['x'.repeat(200)], requestId: 3, sandboxDir: 'sb/3' },
  { requestId: 1, cancel: true },
];

function decodeAll(chunks: Buffer[]): WorkRequest[] {
  const p = new AutoProtocol();
  const out: WorkRequest[] = [];
  for (const c of chunks) {
    for (const item of p.push(c)) {
      if (item instanceof Error) throw item;
      out.push(item);
    }
  }
  for (const item of p.end()) {
    if (item instanceof Error) throw item;
    out.push(item);
  }
  expect(p.pendingAtEof()).toBeUndefined();
  return out;
}

function normalise(rs: Array<Partial<WorkRequest>>) {
  return rs.map((r) => ({
    arguments: r.arguments ?? [],
    requestId: r.requestId ?? 0,
    cancel: r.cancel ?? false,
    verbosity: r.verbosity ?? 0,
    sandboxDir: r.sandboxDir ?? '',
  }));
}

const strip = (rs: WorkRequest[]) => rs.map(({ inputs: _inputs, ...rest }) => rest);

describe.each([
  ['proto', Buffer.concat(REQUESTS.map((r) => encodeWorkRequestFrame(r)))],
  ['json', Buffer.from(REQUESTS.map(jsonRequest).join(''), 'utf8')],
])('%s stream', (name, stream) => {
  const want = normalise(REQUESTS);

  it('decodes in one chunk', () => {
    expect(strip(decodeAll([stream]))).toEqual(want);
  });

  it('decodes when split at every single point', () => {
    for (let i = 0; i <= stream.length; i++) {
      expect(strip(decodeAll([stream.subarray(0, i), stream.subarray(i)])), `split at ${i}`).toEqual(want);
    }
  });

  it('decodes when split at every pair of points', () => {
    // Pairs catch a prefix or a JSON escape spread over three chunks.
    const step = 11;
    for (let i = 0; i <= stream.length; i += step) {
      for (let j = i; j <= stream.length; j++) {
        const chunks = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
        expect(strip(decodeAll(chunks)), `split at ${i},${j}`).toEqual(want);
      }
    }
  });

  it('decodes byte by byte', () => {
    expect(strip(decodeAll([...stream].map((b) => Buffer.from([b]))))).toEqual(want);
  });

  it('reports a stream that ends inside a frame', () => {
    const p = new AutoProtocol();
    p.push(stream.subarray(0, stream.length - 1));
    expect(p.pendingAtEof()).toMatch(/input ended inside/);
  });
});

describe('protocol detection', () => {
  it('tells JSON from proto by the first two bytes', () => {
    expect(detectProtocol(Buffer.from('{"arguments":[]}'))).toBe('json');
    expect(detectProtocol(Buffer.from('{}'))).toBe('json');
    expect(detectProtocol(Buffer.from('{'))).toBeUndefined();
    expect(detectProtocol(encodeWorkRequestFrame({ arguments: ['a'] }))).toBe('proto');
    expect(detectProtocol(Buffer.from([0]))).toBe('proto');
  });

  it('reads a 123-byte proto request (first byte 0x7b, like "{") as proto', () => {
    // arguments field: tag 0x0a, length 121 → body of 1 + 1 + 121 = 123 bytes.
    const frame = encodeWorkRequestFrame({ arguments: ['a'.repeat(121)] });
    expect(frame[0]).toBe(0x7b);
    expect(frame[1]).toBe(0x0a);
    expect(detectProtocol(frame.subarray(0, 10))).toBeUndefined();
    expect(detectProtocol(frame)).toBe('proto');
    expect(strip(decodeAll([frame.subarray(0, 50), frame.subarray(50)]))).toEqual(normalise([{ arguments: ['a'.repeat(121)] }]));
  });

  it('reads hand-written JSON with whitespace as JSON', () => {
    const text = '{\n  "requestId": 3,\n  "arguments": ["x"]\n}\n\n{ "requestId": 4 }';
    expect(strip(decodeAll([Buffer.from(text)])).map((r) => r.requestId)).toEqual([3, 4]);
    expect(strip(decodeAll([Buffer.from('{ }')])).map((r) => r.requestId)).toEqual([0]);
  });

  it('fails clearly on bytes that are neither', () => {
    const p = new AutoProtocol();
    const items = p.push(Buffer.from('{"requestId":1}garbage'));
    expect(items[0]).toMatchObject({ requestId: 1 });
    expect(items[1]).toBeInstanceOf(FramingError);
    expect((items[1] as Error).message).toMatch(/expected '\{' at byte 15, got 'g'/);
  });

  it('refuses an absurd proto length instead of buffering it', () => {
    const p = new AutoProtocol(1024);
    const items = p.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect((items[0] as Error).message).toMatch(/more than the 1024-byte limit/);
  });
});
