import { FramingError } from './messages.ts';

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Splits a stream of concatenated JSON objects. Bazel 4.2.3 writes each
 * WorkRequest with `JsonFormat.printer().omittingInsignificantWhitespace()` and
 * no separator, so a line reader would wait forever; whitespace between
 * objects (newer Bazel, hand-written tests) is skipped too.
 *
 * It scans bytes, not characters: in UTF-8 every byte of a multi-byte
 * character is >= 0x80, so it can never be mistaken for `{`, `}`, `"` or `\`.
 * The scan only finds object boundaries; `JSON.parse` validates the object.
 */
export class JsonFrameSplitter {
  private chunks: Buffer[] = [];
  /** Bytes of the current object in earlier chunks. */
  private carried = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Absolute offset of the current chunk's first byte. */
  private offset = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /**
   * Feeds bytes and appends the frames they complete to `frames`. Throws a
   * FramingError after appending the frames that came before the bad bytes.
   */
  push(chunk: Buffer, frames: Buffer[]): void {
    let start = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.depth === 0) {
        if (isJsonSpace(b)) continue;
        if (b !== OPEN) {
          throw new FramingError(
            `expected '{' at byte ${this.offset + i}, got ${describeByte(b)} (not a JSON WorkRequest stream?)`,
          );
        }
        this.depth = 1;
        start = i;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN || b === 0x5b) this.depth++;
      else if (b === CLOSE || b === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          frames.push(this.take(chunk, start, i + 1));
          start = -1;
        }
      }
    }
    if (this.depth > 0) {
      const rest = chunk.subarray(start);
      this.chunks.push(rest);
      this.carried += rest.length;
      if (this.carried > this.maxFrameBytes) {
        throw new FramingError(`JSON request larger than the ${this.maxFrameBytes}-byte limit`);
      }
    }
    this.offset += chunk.length;
  }

  pendingAtEof(): string | undefined {
    if (this.depth === 0) return undefined;
    return `input ended inside a JSON object (${this.carried} bytes buffered)`;
  }

  private take(chunk: Buffer, start: number, end: number): Buffer {
    const tail = chunk.subarray(start, end);
    if (this.chunks.length === 0) return tail;
    const whole = Buffer.concat([...this.chunks, tail], this.carried + tail.length);
    this.chunks = [];
    this.carried = 0;
    return whole;
  }
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}
