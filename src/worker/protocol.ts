import { decodeJsonRequest, encodeJsonResponse } from './json.ts';
import { JsonFrameSplitter } from './json-frames.ts';
import { FramingError, type WorkRequest, type WorkResponse } from './messages.ts';
import { decodeWorkRequest, encodeWorkResponseFrame } from './proto.ts';
import { ProtoFrameSplitter } from './proto-frames.ts';

export type ProtocolName = 'proto' | 'json';

/** A request decoder over the byte stream, and the matching response encoder. */
export interface Protocol {
  readonly name: ProtocolName;
  /** Feeds bytes; returns each complete request, or the error its frame raised. */
  push(chunk: Buffer): Array<WorkRequest | Error>;
  /** Error text for an unfinished frame at end of input. */
  pendingAtEof(): string | undefined;
  encode(res: WorkResponse): Buffer;
}

/** Largest request frame accepted: far above any real rustc command line. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/**
 * Bazel does not tell the worker which protocol it chose, so the first bytes
 * decide. A JSON request (Bazel writes it without whitespace) starts with `{`
 * then `"` (a field name) or `}` (an empty request). A proto frame starting
 * with 0x7b declares a 123-byte body whose first byte is a field tag; `"`
 * (0x22) would be field 4 with wire type 2 and `}` (0x7d) field 15 with wire
 * type 5, neither of which a WorkRequest can contain. So two bytes decide
 * without ambiguity for what Bazel sends. Whitespace after the `{` (never
 * from Bazel, but easy to type in a test) is settled by jsonUnlessProto. A
 * stream whose first byte is not `{` is proto.
 *
 * Returns undefined while the bytes seen so far cannot decide.
 */
export function detectProtocol(head: Buffer): ProtocolName | undefined {
  if (head.length === 0) return undefined;
  if (head[0] !== 0x7b) return 'proto';
  if (head.length < 2) return undefined;
  const second = head[1]!;
  if (second === 0x22 || second === 0x7d) return 'json';
  const jsonSpace = second === 0x20 || second === 0x0a || second === 0x0d || second === 0x09;
  return jsonSpace ? jsonUnlessProto(head) : 'proto';
}

/**
 * `{` followed by JSON whitespace could still be a 123-byte proto frame whose
 * first field is `arguments` (0x0a) or `cancel` (0x20): a body that decodes as
 * a WorkRequest decides for proto, bytes that cannot start one for JSON.
 */
function jsonUnlessProto(head: Buffer): ProtocolName | undefined {
  try {
    decodeWorkRequest(head.subarray(1, 124));
    return head.length >= 124 ? 'proto' : undefined;
  } catch (err) {
    return err instanceof FramingError && err.truncated && head.length < 124 ? undefined : 'json';
  }
}

export function createProtocol(name: ProtocolName, maxFrameBytes = MAX_FRAME_BYTES): Protocol {
  if (name === 'proto') {
    const splitter = new ProtoFrameSplitter(maxFrameBytes);
    return {
      name,
      push: (chunk) => split(chunk, splitter, decodeWorkRequest),
      pendingAtEof: () => splitter.pendingAtEof(),
      encode: encodeWorkResponseFrame,
    };
  }
  const splitter = new JsonFrameSplitter(maxFrameBytes);
  return {
    name,
    push: (chunk) => split(chunk, splitter, decodeJsonRequest),
    pendingAtEof: () => splitter.pendingAtEof(),
    encode: encodeJsonResponse,
  };
}

/** Frames before a bad one are still served; the bad one ends the list as its error. */
function split(
  chunk: Buffer,
  splitter: { push(chunk: Buffer, frames: Buffer[]): void },
  decode: (frame: Buffer) => WorkRequest,
): Array<WorkRequest | Error> {
  const frames: Buffer[] = [];
  let framingError: Error | undefined;
  try {
    splitter.push(chunk, frames);
  } catch (err) {
    framingError = asError(err);
  }
  const out: Array<WorkRequest | Error> = [];
  for (const frame of frames) {
    try {
      out.push(decode(frame));
    } catch (err) {
      out.push(asError(err));
    }
  }
  if (framingError) out.push(framingError);
  return out;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new FramingError(String(err));
}

/**
 * Buffers the first bytes until the protocol is known, then hands everything
 * to that protocol's decoder.
 */
export class AutoProtocol {
  private head: Buffer[] = [];
  private protocol: Protocol | undefined;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  get name(): ProtocolName | undefined {
    return this.protocol?.name;
  }

  push(chunk: Buffer): Array<WorkRequest | Error> {
    if (this.protocol) return this.protocol.push(chunk);
    this.head.push(chunk);
    const head = Buffer.concat(this.head);
    const name = detectProtocol(head);
    if (name === undefined) return [];
    this.head = [];
    this.protocol = createProtocol(name, this.maxFrameBytes);
    return this.protocol.push(head);
  }

  /**
   * End of input: a head too short to decide (only hand-written JSON such as
   * `{ }` can be) is read as JSON; returns what that yields.
   */
  end(): Array<WorkRequest | Error> {
    if (this.protocol || this.head.length === 0) return [];
    const head = Buffer.concat(this.head);
    this.head = [];
    this.protocol = createProtocol(head[0] === 0x7b ? 'json' : 'proto', this.maxFrameBytes);
    return this.protocol.push(head);
  }

  pendingAtEof(): string | undefined {
    if (this.protocol) return this.protocol.pendingAtEof();
    const n = this.head.reduce((sum, b) => sum + b.length, 0);
    return n === 0 ? undefined : `input ended after ${n} bytes, too few to tell proto from JSON`;
  }

  encode(res: WorkResponse): Buffer {
    if (!this.protocol) throw new Error('internal: response before any request');
    return this.protocol.encode(res);
  }
}
