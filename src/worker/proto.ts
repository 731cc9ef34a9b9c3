import { isUtf8 } from 'node:buffer';
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
const WIRE_SGROUP = 3;
const WIRE_EGROUP = 4;
const WIRE_I32 = 5;

/** Groups nested deeper than this in an unknown field are not a request. */
const MAX_GROUP_DEPTH = 100;

/**
 * A cursor over one message's bytes. Strings are sliced straight out of the
 * Buffer after a validity check: a fatal TextDecoder costs about a
 * microsecond per call in Node 20, which dominated decoding requests with
 * hundreds of arguments and inputs.
 */
class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  /** An unsigned varint, exact up to 2^53 (lengths, tags, bools). */
  uvarint(): number {
    if (this.pos < this.end) {
      const b = this.buf[this.pos]!;
      if (b < 0x80) {
        this.pos++;
        return b;
      }
    }
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new FramingError('truncated varint', true);
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return value;
    }
    throw new FramingError('varint longer than 10 bytes');
  }

  /** An int32: the low 32 bits of the varint (negative values are sign-extended to 10 bytes). */
  int32(): number {
    const start = this.pos;
    this.uvarint();
    let low32 = 0;
    for (let i = 0; i < 5 && start + i < this.pos; i++) low32 |= (this.buf[start + i]! & 0x7f) << (7 * i);
    return low32 | 0;
  }

  private span(): number {
    const len = this.uvarint();
    if (len > this.end - this.pos) throw new FramingError(`field length ${len} runs past the message end`, true);
    return len;
  }

  bytes(): Buffer {
    const len = this.span();
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(field: string): string {
    const len = this.span();
    const start = this.pos;
    this.pos += len;
    let ascii = true;
    for (let i = start; i < this.pos; i++) {
      if (this.buf[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return this.buf.toString('latin1', start, this.pos);
    if (!isUtf8(this.buf.subarray(start, this.pos))) throw new FramingError(`${field} is not valid UTF-8`);
    return this.buf.toString('utf8', start, this.pos);
  }

  skip(wireType: number, field: number): void {
    switch (wireType) {
      case WIRE_VARINT: this.uvarint(); return;
      case WIRE_I64: this.advance(8); return;
      case WIRE_LEN: {
        const len = this.span(); // before reading pos: `pos += span()` would use the old pos
        this.pos += len;
        return;
      }
      case WIRE_I32: this.advance(4); return;
      case WIRE_SGROUP: this.skipGroup(field); return;
      case WIRE_EGROUP: throw new FramingError(`field ${field}: end of a group that was never started`);
      default: throw new FramingError(`field ${field} has unsupported wire type ${wireType}`);
    }
  }

  /**
   * A proto2 group (deprecated, still valid on the wire): every field up to
   * the end-group tag with the same field number, nested groups included.
   * Iterative, with a depth cap, so hostile nesting cannot blow the stack.
   */
  private skipGroup(field: number): void {
    const open = [field];
    while (open.length > 0) {
      if (this.pos >= this.end) throw new FramingError(`field ${open[open.length - 1]}: group not ended before the message end`, true);
      const tag = this.uvarint();
      const f = Math.floor(tag / 8);
      const wt = tag & 7;
      if (wt === WIRE_EGROUP) {
        if (f !== open[open.length - 1]) throw new FramingError(`field ${f}: end of a group, expected the end of group ${open[open.length - 1]}`);
        open.pop();
      } else if (wt === WIRE_SGROUP) {
        if (open.length >= MAX_GROUP_DEPTH) throw new FramingError(`groups nested more than ${MAX_GROUP_DEPTH} deep`);
        open.push(f);
      } else {
        this.skip(wt, f);
      }
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

const EMPTY = Buffer.alloc(0);

function decodeInput(r: Reader): WorkInput {
  const input: WorkInput = { path: '', digest: EMPTY };
  while (r.pos < r.end) {
    const tag = r.uvarint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 1) { expect(field, wt, WIRE_LEN); input.path = r.string('Input.path'); }
    else if (field === 2) { expect(field, wt, WIRE_LEN); input.digest = r.bytes(); }
    else r.skip(wt, field);
  }
  return input;
}

/** Decodes one WorkRequest message (the bytes after its length prefix). */
export function decodeWorkRequest(bytes: Uint8Array): WorkRequest {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const req = emptyRequest();
  const r = new Reader(buf);
  while (r.pos < r.end) {
    const tag = r.uvarint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 0) throw new FramingError('field number 0');
    switch (field) {
      case 1: expect(field, wt, WIRE_LEN); req.arguments.push(r.string('arguments')); break;
      case 2: {
        expect(field, wt, WIRE_LEN);
        const sub = r.bytes();
        req.inputs.push(decodeInput(new Reader(buf, sub.byteOffset - buf.byteOffset, sub.byteOffset - buf.byteOffset + sub.length)));
        break;
      }
      case 3: expect(field, wt, WIRE_VARINT); req.requestId = r.int32(); break;
      case 4: expect(field, wt, WIRE_VARINT); req.cancel = r.uvarint() !== 0; break;
      case 5: expect(field, wt, WIRE_VARINT); req.verbosity = r.int32(); break;
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
