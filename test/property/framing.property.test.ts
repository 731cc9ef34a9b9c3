/**
 * Property tests for the worker's request framing (proto and JSON): any split
 * of a multi-frame stream decodes to the same requests; random garbage, or
 * garbage after valid frames, never throws out of the decoder: it yields the
 * requests before the bad bytes, then an Error, or waits for more input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FramingError, RequestError, type WorkRequest } from '../../src/worker/messages.ts';
import { encodeWorkRequestFrame } from '../../src/worker/proto.ts';
import { AutoProtocol, createProtocol } from '../../src/worker/protocol.ts';
import { jsonRequest } from '../worker/client.ts';

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const str = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('{', '}', '"', '\\', '{"a":"}"}', '\n', ' '));

/** Requests as Bazel may send them; `inputs` only for proto (JSON digests are base64 and omitted by the helper). */
const request = (withInputs: boolean): fc.Arbitrary<Partial<WorkRequest>> =>
  fc.record(
    {
      arguments: fc.array(str, { maxLength: 6 }),
      inputs: withInputs
        ? fc.array(fc.record({ path: str, digest: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 3 })
        : fc.constant([]),
      requestId: fc.oneof(fc.constant(0), int32),
      cancel: fc.boolean(),
      verbosity: fc.oneof(fc.constant(0), int32),
      sandboxDir: fc.oneof(fc.constant(''), str),
    },
    { requiredKeys: [] },
  );

function normalise(r: Partial<WorkRequest>, withInputs: boolean) {
  return {
    arguments: r.arguments ?? [],
    requestId: r.requestId ?? 0,
    cancel: r.cancel ?? false,
    verbosity: r.verbosity ?? 0,
    sandboxDir: r.sandboxDir ?? '',
    ...(withInputs ? { inputs: (r.inputs ?? []).map((i) => ({ path: i.path, digest: Buffer.from(i.digest) })) } : {}),
  };
}

function view(r: WorkRequest, withInputs: boolean) {
  const { inputs, ...rest } = r;
  return withInputs ? { ...rest, inputs: inputs.map((i) => ({ path: i.path, digest: Buffer.from(i.digest) })) } : rest;
}

/** Cuts `stream` at sorted random points. */
function cut(stream: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...at, stream.length]) {
    out.push(stream.subarray(prev, p));
    prev = p;
  }
  return out;
}

function decode(chunks: Buffer[], p = new AutoProtocol()): { items: Array<WorkRequest | Error>; pending: string | undefined } {
  const items: Array<WorkRequest | Error> = [];
  for (const c of chunks) items.push(...p.push(c));
  items.push(...p.end());
  return { items, pending: p.pendingAtEof() };
}

const encoders = {
  proto: (rs: Array<Partial<WorkRequest>>) => Buffer.concat(rs.map((r) => encodeWorkRequestFrame(r))),
  json: (rs: Array<Partial<WorkRequest>>) => Buffer.from(rs.map(jsonRequest).join(''), 'utf8'),
};

describe.each(['proto', 'json'] as const)('%s framing (property)', (name) => {
  const withInputs = name === 'proto';
  const requests = fc.array(request(withInputs), { minLength: 1, maxLength: 8 });

  it('any split of a multi-frame stream decodes to the same requests', () => {
    fc.assert(
      fc.property(requests, fc.array(fc.nat(), { maxLength: 12 }), (rs, points) => {
        const stream = encoders[name](rs);
        const { items, pending } = decode(cut(stream, points));
        expect(pending).toBeUndefined();
        expect(items.every((i) => !(i instanceof Error))).toBe(true);
        expect((items as WorkRequest[]).map((r) => view(r, withInputs))).toEqual(rs.map((r) => normalise(r, withInputs)));
      }),
      { numRuns: 1500 },
    );
  });

  it('byte-at-a-time delivery decodes to the same requests', () => {
    fc.assert(
      fc.property(fc.array(request(withInputs), { minLength: 1, maxLength: 3 }), (rs) => {
        const stream = encoders[name](rs);
        const { items } = decode([...stream].map((b) => Buffer.from([b])));
        expect((items as WorkRequest[]).map((r) => view(r, withInputs))).toEqual(rs.map((r) => normalise(r, withInputs)));
      }),
      { numRuns: 200 },
    );
  });

  it('valid frames followed by garbage: the requests before it are decoded, then at most errors; nothing throws', () => {
    fc.assert(
      fc.property(requests, fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.array(fc.nat(), { maxLength: 6 }), (rs, junk, points) => {
        const good = encoders[name](rs);
        const p = createProtocol(name, 4096);
        const items: Array<WorkRequest | Error> = [];
        for (const c of cut(Buffer.concat([good, junk]), points)) items.push(...p.push(c));
        p.pendingAtEof();
        const firstError = items.findIndex((i) => i instanceof Error);
        const decoded = (firstError < 0 ? items : items.slice(0, firstError)) as WorkRequest[];
        // The good prefix always comes back whole (junk can only add requests after it).
        expect(decoded.slice(0, rs.length).map((r) => view(r, withInputs))).toEqual(rs.map((r) => normalise(r, withInputs)));
        for (const i of items) if (i instanceof Error) expect(i instanceof FramingError || i instanceof RequestError).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});

describe('random bytes into the auto-detecting decoder (property)', () => {
  const garbage = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    // Bytes that look like the start of either protocol.
    fc.tuple(fc.constantFrom(0x7b, 0x0a, 0x00, 0x80, 0xff), fc.uint8Array({ maxLength: 200 })).map(([b, rest]) => Uint8Array.from([b, ...rest])),
    fc.string({ unit: fc.constantFrom('{', '}', '"', '\\', ':', ',', '[', ']', 'a', '1', ' ', 'requestId', 'arguments', 'true') , maxLength: 80 }).map((s) => new TextEncoder().encode(s)),
  );

  it('never throws; every error is a FramingError or RequestError; an unfinished frame is reported at EOF', () => {
    fc.assert(
      fc.property(garbage, fc.array(fc.nat(), { maxLength: 6 }), (bytes, points) => {
        const p = new AutoProtocol(1 << 16);
        const { items, pending } = decode(cut(Buffer.from(bytes), points), p);
        for (const i of items) {
          if (i instanceof Error) expect(i instanceof FramingError || i instanceof RequestError, String(i)).toBe(true);
        }
        expect(pending === undefined || typeof pending === 'string').toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('a huge declared proto length is refused, not buffered', () => {
    fc.assert(
      fc.property(fc.integer({ min: (1 << 16) + 1, max: 2 ** 40 }), (len) => {
        const prefix: number[] = [];
        let n = len;
        while (n >= 128) {
          prefix.push((n % 128) | 0x80);
          n = Math.floor(n / 128);
        }
        prefix.push(n);
        const p = createProtocol('proto', 1 << 16);
        const items = p.push(Buffer.from(prefix));
        expect(items).toHaveLength(1);
        expect(items[0]).toBeInstanceOf(FramingError);
      }),
    );
  });
});
