import { emptyRequest, FramingError, type WorkInput, type WorkRequest, type WorkResponse } from './messages.ts';

/**
 * A hand-written codec for the two worker messages. It is the whole of the
 * protobuf we need: varints, length-delimited fields and skipping unknown
 * fields. A protobuf library would cost start-up time (@bufbuild/protobuf
 * imports in ~59 ms unbundled) and bundle bytes on every one-shot action; see
 * docs/worker.md for the measured comparison with its wire module.
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A cursor over one message's bytes. */
class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  /**
   * Reads a varint of up to 10 bytes. `low32` is the value's low 32 bits (how
   * protobuf reads an int32, which is sign-extended to 10 bytes when negative);
   * `value` is exact up to 2^53 and used for lengths.
   */
  varint(): { low32: number; value: number } {
    let low32 = 0;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new FramingError('truncated varint', true);
      const b = this.buf[this.pos++]!;
      if (i < 5) low32 |= (b & 0x7f) << (7 * i);
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return { low32, value };
    }
    throw new FramingError('varint longer than 10 bytes');
  }

  bytes(): Uint8Array {
    const { value: len } = this.varint();
    if (len > this.end - this.pos) throw new FramingError(`field length ${len} runs past the message end`, true);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(field: string): string {
    try {
      return utf8.decode(this.bytes());
    } catch (err) {
      if (err instanceof FramingError) throw err;
      throw new FramingError(`${field} is not valid UTF-8`);
    }
  }

  skip(wireType: number, field: number): void {
    switch (wireType) {
      case WIRE_VARINT: this.varint(); return;
      case WIRE_I64: this.advance(8); return;
      case WIRE_LEN: this.bytes(); return;
      case WIRE_I32: this.advance(4); return;
      default: throw new FramingError(`field ${field} has unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new FramingError('truncated fixed-width field', true);
    this.pos += n;
  }
}

/** Expects `wireType` for a known field; a mismatch means the bytes are not a WorkRequest. */
function expect(field: number, wireType: number, want: number): void {
  if (wireType !== want) throw new FramingError(`field ${field} has wire type ${wireType}, expected ${want}`);
}

function decodeInput(r: Reader): WorkInput {
  const input: WorkInput = { path: '', digest: new Uint8Array(0) };
  while (r.pos < r.end) {
    const tag = r.varint().value;
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 1) { expect(field, wt, WIRE_LEN); input.path = r.string('Input.path'); }
    else if (field === 2) { expect(field, wt, WIRE_LEN); input.digest = r.bytes(); }
    else r.skip(wt, field);
  }
  return input;
}

/** Decodes one WorkRequest message (the bytes after its length prefix). */
export function decodeWorkRequest(buf: Uint8Array): WorkRequest {
  const req = emptyRequest();
  const r = new Reader(buf);
  while (r.pos < r.end) {
    const tag = r.varint().value;
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 0) throw new FramingError('field number 0');
    switch (field) {
      case 1: expect(field, wt, WIRE_LEN); req.arguments.push(r.string('arguments')); break;
      case 2: {
        expect(field, wt, WIRE_LEN);
        const sub = r.bytes();
        req.inputs.push(decodeInput(new Reader(sub)));
        break;
      }
      case 3: expect(field, wt, WIRE_VARINT); req.requestId = r.varint().low32 | 0; break;
      case 4: expect(field, wt, WIRE_VARINT); req.cancel = r.varint().value !== 0; break;
      case 5: expect(field, wt, WIRE_VARINT); req.verbosity = r.varint().low32 | 0; break;
      case 6: expect(field, wt, WIRE_LEN); req.sandboxDir = r.string('sandbox_dir'); break;
      default: r.skip(wt, field);
    }
  }
  return req;
}

/** Bytes a varint of `n` (a non-negative integer below 2^53) takes. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) { n = Math.floor(n / 128); size++; }
  return size;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** An int32 as protobuf encodes it: negative values sign-extend to 64 bits (10 bytes). */
function int32Wire(n: number): number {
  return n < 0 ? 2 ** 64 + n : n;
}

/** Writes a sign-extended negative int32 exactly (2^64 + n is not exact as a double). */
function writeInt32(out: Uint8Array, pos: number, n: number): number {
  if (n >= 0) return writeVarint(out, pos, n);
  let lo = n >>> 0;
  for (let i = 0; i < 4; i++) { out[pos++] = (lo & 0x7f) | 0x80; lo >>>= 7; }
  // Byte 5 carries bits 28..34: the top 4 bits of lo, then ones from the sign extension.
  out[pos++] = (lo & 0x0f) | 0x70 | 0x80;
  for (let i = 0; i < 4; i++) out[pos++] = 0xff;
  out[pos++] = 0x01;
  return pos;
}

function int32Size(n: number): number {
  return n < 0 ? 10 : varintSize(int32Wire(n));
}

/**
 * Encodes a WorkResponse with its varint length prefix, ready to write. Fields
 * equal to their proto3 default are omitted, as protobuf does.
 */
export function encodeWorkResponseFrame(res: WorkResponse): Buffer {
  const outputLen = res.output === '' ? 0 : Buffer.byteLength(res.output, 'utf8');
  let body = 0;
  if (res.exitCode !== 0) body += 1 + int32Size(res.exitCode);
  if (outputLen > 0) body += 1 + varintSize(outputLen) + outputLen;
  if (res.requestId !== 0) body += 1 + int32Size(res.requestId);
  if (res.wasCancelled) body += 2;
  const frame = Buffer.allocUnsafe(varintSize(body) + body);
  let pos = writeVarint(frame, 0, body);
  if (res.exitCode !== 0) { frame[pos++] = (1 << 3) | WIRE_VARINT; pos = writeInt32(frame, pos, res.exitCode); }
  if (outputLen > 0) {
    frame[pos++] = (2 << 3) | WIRE_LEN;
    pos = writeVarint(frame, pos, outputLen);
    pos += frame.write(res.output, pos, 'utf8');
  }
  if (res.requestId !== 0) { frame[pos++] = (3 << 3) | WIRE_VARINT; pos = writeInt32(frame, pos, res.requestId); }
  if (res.wasCancelled) { frame[pos++] = (4 << 3) | WIRE_VARINT; frame[pos++] = 1; }
  if (pos !== frame.length) throw new Error(`internal: encoded ${pos} of ${frame.length} bytes`);
  return frame;
}

/** Reads a varint length prefix at `pos`; undefined when more bytes are needed. */
export function readLengthPrefix(buf: Uint8Array, pos: number): { length: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= buf.length) return undefined;
    const b = buf[pos + i]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { length: value, next: pos + i + 1 };
  }
  throw new FramingError('length prefix longer than 10 bytes');
}

/** For tests and the bench: a WorkRequest frame as Bazel writes it. */
export function encodeWorkRequestFrame(req: Partial<WorkRequest>): Buffer {
  const parts: Buffer[] = [];
  const tagged = (field: number, wt: number) => Buffer.from([(field << 3) | wt]);
  const len = (b: Buffer) => {
    const p = Buffer.alloc(varintSize(b.length));
    writeVarint(p, 0, b.length);
    return p;
  };
  const int32 = (n: number) => {
    const p = Buffer.alloc(int32Size(n));
    writeInt32(p, 0, n);
    return p;
  };
  for (const a of req.arguments ?? []) {
    const b = Buffer.from(a, 'utf8');
    parts.push(tagged(1, WIRE_LEN), len(b), b);
  }
  for (const input of req.inputs ?? []) {
    const p = Buffer.from(input.path, 'utf8');
    const d = Buffer.from(input.digest);
    const sub = Buffer.concat([tagged(1, WIRE_LEN), len(p), p, tagged(2, WIRE_LEN), len(d), d]);
    parts.push(tagged(2, WIRE_LEN), len(sub), sub);
  }
  if (req.requestId) parts.push(tagged(3, WIRE_VARINT), int32(req.requestId));
  if (req.cancel) parts.push(tagged(4, WIRE_VARINT), Buffer.from([1]));
  if (req.verbosity) parts.push(tagged(5, WIRE_VARINT), int32(req.verbosity));
  if (req.sandboxDir) {
    const b = Buffer.from(req.sandboxDir, 'utf8');
    parts.push(tagged(6, WIRE_LEN), len(b), b);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([len(body), body]);
}
