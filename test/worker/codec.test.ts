import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeJsonRequest, encodeJsonResponse } from '../../src/worker/json.ts';
import { FramingError, RequestError } from '../../src/worker/messages.ts';
import { decodeWorkRequest, encodeWorkRequestFrame, encodeWorkResponseFrame, readLengthPrefix } from '../../src/worker/proto.ts';

function body(frame: Buffer): Buffer {
  const p = readLengthPrefix(frame, 0)!;
  expect(p.next + p.length).toBe(frame.length);
  return frame.subarray(p.next);
}

describe('proto codec', () => {
  it('round-trips every WorkRequest field, negative int32 included', () => {
    const req = {
      arguments: ['--subst', 'pwd=${pwd}', '--', 'rustc', 'ünïcode ✓', ''],
      inputs: [{ path: 'a/b.rs', digest: new Uint8Array([1, 2, 255]) }],
      requestId: -7,
      cancel: true,
      verbosity: 10,
      sandboxDir: 'bazel-workers/multiplex-worker-3-Rustc',
    };
    const back = decodeWorkRequest(body(encodeWorkRequestFrame(req)));
    expect({ ...back, inputs: back.inputs.map((i) => ({ path: i.path, digest: [...i.digest] })) }).toEqual({
      ...req,
      inputs: [{ path: 'a/b.rs', digest: [1, 2, 255] }],
    });
  });

  it('matches the bytes protobuf writes for a known response', () => {
    // exit_code=1, output="hi", request_id=300, was_cancelled=true, as protoc --encode writes them.
    const frame = encodeWorkResponseFrame({ exitCode: 1, output: 'hi', requestId: 300, wasCancelled: true });
    expect([...frame]).toEqual([11, 0x08, 1, 0x12, 2, 0x68, 0x69, 0x18, 0xac, 0x02, 0x20, 1]);
    expect([...encodeWorkResponseFrame({ exitCode: 0, output: '', requestId: 0, wasCancelled: false })]).toEqual([0]);
    // A negative exit code is a sign-extended 10-byte varint.
    expect([...encodeWorkResponseFrame({ exitCode: -1, output: '', requestId: 0, wasCancelled: false })]).toEqual([
      11, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
  });

  it('skips unknown fields of every wire type', () => {
    const known = body(encodeWorkRequestFrame({ arguments: ['x'], requestId: 5 }));
    const unknown = Buffer.from([
      (9 << 3) | 0, 0x96, 0x01, // varint
      (10 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8, // fixed64
      (11 << 3) | 2, 2, 0xff, 0xfe, // bytes
      (12 << 3) | 5, 1, 2, 3, 4, // fixed32
    ]);
    const req = decodeWorkRequest(Buffer.concat([unknown, known]));
    expect(req.arguments).toEqual(['x']);
    expect(req.requestId).toBe(5);
  });

  it('skips unknown proto2 groups (wire types 3 and 4), nested ones too (issue 10 item 11)', () => {
    const known = body(encodeWorkRequestFrame({ arguments: ['x'], requestId: 5 }));
    const group = Buffer.from([
      (9 << 3) | 3, // start group 9
      (1 << 3) | 0, 0x96, 0x01, // a varint inside
      (7 << 3) | 3, (1 << 3) | 2, 1, 0x41, (7 << 3) | 4, // a nested group 7 holding bytes
      (9 << 3) | 4, // end group 9
    ]);
    const req = decodeWorkRequest(Buffer.concat([group, known, group]));
    expect(req.arguments).toEqual(['x']);
    expect(req.requestId).toBe(5);
  });

  it('a stray, mismatched, unterminated or too deeply nested group is a FramingError', () => {
    expect(() => decodeWorkRequest(Buffer.from([(9 << 3) | 4]))).toThrow(/never started/);
    expect(() => decodeWorkRequest(Buffer.from([(9 << 3) | 3, (8 << 3) | 4]))).toThrow(/expected the end of group 9/);
    expect(() => decodeWorkRequest(Buffer.from([(9 << 3) | 3, (1 << 3) | 0, 1]))).toThrow(FramingError);
    const deep = Buffer.alloc(200, (9 << 3) | 3);
    expect(() => decodeWorkRequest(deep)).toThrow(/nested more than 100/);
  });

  it('rejects truncated and mistyped fields with a FramingError', () => {
    const good = body(encodeWorkRequestFrame({ arguments: ['abc'] }));
    expect(() => decodeWorkRequest(good.subarray(0, good.length - 1))).toThrow(FramingError);
    expect(() => decodeWorkRequest(Buffer.from([(3 << 3) | 2, 0]))).toThrow(/wire type 2, expected 0/);
    expect(() => decodeWorkRequest(Buffer.from([(1 << 3) | 2, 1, 0xff]))).toThrow(/not valid UTF-8/);
  });

  it('encodes any response protobuf can decode back (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.string({ unit: 'grapheme' }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.boolean(), (exitCode, output, requestId, wasCancelled) => {
        const frame = encodeWorkResponseFrame({ exitCode, output, requestId, wasCancelled });
        // Reuse the request decoder's varint reader: decode fields 1..4 by hand.
        const b = body(frame);
        const fields = new Map<number, number | string>();
        let pos = 0;
        while (pos < b.length) {
          const tag = b[pos++]!;
          let lo = 0, shift = 0, byte = 0, n = 0;
          do { byte = b[pos++]!; if (shift < 32) lo |= (byte & 0x7f) << shift; shift += 7; n++; } while (byte & 0x80);
          if ((tag & 7) === 2) { fields.set(tag >> 3, b.subarray(pos, pos + lo).toString('utf8')); pos += lo; }
          else fields.set(tag >> 3, lo | 0);
          expect(n).toBeLessThanOrEqual(10);
        }
        expect(fields.get(1) ?? 0).toBe(exitCode);
        expect(fields.get(2) ?? '').toBe(output);
        expect(fields.get(3) ?? 0).toBe(requestId);
        expect((fields.get(4) ?? 0) === 1).toBe(wasCancelled);
      }),
    );
  });
});

describe('JSON codec', () => {
  it('reads what Bazel 4.2.3 writes, requestId omitted when 0', () => {
    const req = decodeJsonRequest(Buffer.from('{"arguments":["a","b"],"inputs":[{"path":"x","digest":"AQI="}]}'));
    expect(req.arguments).toEqual(['a', 'b']);
    expect(req.requestId).toBe(0);
    expect([...req.inputs[0]!.digest]).toEqual([1, 2]);
  });

  it('accepts snake_case names and numeric strings, as protobuf JSON does', () => {
    const req = decodeJsonRequest(Buffer.from('{"request_id":"12","cancel":true,"sandbox_dir":"s","verbosity":3}'));
    expect(req).toMatchObject({ requestId: 12, cancel: true, sandboxDir: 's', verbosity: 3 });
  });

  it('answers a bad field with a RequestError carrying the id, bad JSON with a FramingError', () => {
    const bad = () => decodeJsonRequest(Buffer.from('{"requestId":4,"arguments":[1]}'));
    expect(bad).toThrow(RequestError);
    try { bad(); } catch (err) { expect((err as RequestError).requestId).toBe(4); }
    expect(() => decodeJsonRequest(Buffer.from('{"arguments":}'))).toThrow(FramingError);
  });

  it('writes camelCase responses, one per line', () => {
    expect(encodeJsonResponse({ exitCode: 0, output: 'ok', requestId: 0, wasCancelled: false }).toString()).toBe('{"exitCode":0,"output":"ok"}\n');
    expect(JSON.parse(encodeJsonResponse({ exitCode: 2, output: '', requestId: 9, wasCancelled: true }).toString())).toEqual({
      exitCode: 2, output: '', requestId: 9, wasCancelled: true,
    });
  });
});
