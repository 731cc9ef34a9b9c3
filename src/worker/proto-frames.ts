import { FramingError } from './messages.ts';
import { readLengthPrefix } from './proto.ts';

/**
 * Splits a byte stream into varint-length-delimited frames (Java's
 * `writeDelimitedTo`/`parseDelimitedFrom`, which Bazel uses). Chunks are kept
 * in a list and joined once a whole frame has arrived, so a large request that
 * arrives in many pipe-sized chunks is copied once, not once per chunk.
 */
export class ProtoFrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being collected, once its prefix is complete. */
  private need: number | undefined;
  /** Absolute stream offset of the buffered bytes, for error messages. */
  private offset = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /**
   * Feeds bytes and appends the frames they complete to `frames`. Throws a
   * FramingError after appending the frames that came before the bad bytes.
   */
  push(chunk: Buffer, frames: Buffer[]): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need === undefined) {
        // The prefix is at most 10 bytes: joining that little is cheap.
        const head = this.chunks.length === 1 ? this.chunks[0]! : this.join();
        const prefix = readLengthPrefix(head, 0);
        if (prefix === undefined) return;
        if (prefix.length > this.maxFrameBytes) {
          throw new FramingError(
            `frame at byte ${this.offset} declares ${prefix.length} bytes, more than the ${this.maxFrameBytes}-byte limit (not a WorkRequest stream?)`,
          );
        }
        this.consume(prefix.next);
        this.need = prefix.length;
      }
      if (this.buffered < this.need) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : this.join();
      frames.push(all.subarray(0, this.need));
      this.consume(this.need);
      this.need = undefined;
    }
  }

  /** Describes an unfinished frame at end of input, or undefined if the stream ended cleanly. */
  pendingAtEof(): string | undefined {
    if (this.buffered === 0 && this.need === undefined) return undefined;
    if (this.need === undefined) return `input ended inside a length prefix at byte ${this.offset}`;
    return `input ended inside a frame: ${this.buffered} of ${this.need} bytes at byte ${this.offset}`;
  }

  private join(): Buffer {
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
    return all;
  }

  private consume(n: number): void {
    const all = this.chunks.length === 1 ? this.chunks[0]! : this.join();
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    this.offset += n;
  }
}
