import { Writable } from 'node:stream';

/**
 * The most of one request's output the worker keeps: the end, where rustc's
 * summary and the final errors are. Without a cap a request printing more
 * than ~512 MiB crashed the whole worker (ERR_STRING_TOO_LONG), with no
 * answer for it or the requests in flight, and their children orphaned.
 */
export const MAX_REQUEST_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * One request's output buffer: the WorkResponse `output`. The request's
 * stdout and stderr are two Writables (main may end one when the child's
 * stream ends while the other still receives) appending to one list, so the
 * output keeps the order in which the bytes arrived.
 */
export class RequestOutput {
  private chunks: Buffer[] = [];
  /** Bytes in `chunks`, and bytes already dropped from their front. */
  private kept = 0;
  private dropped = 0;
  readonly stdout: Writable;
  readonly stderr: Writable;

  constructor() {
    this.stdout = this.sink();
    this.stderr = this.sink();
  }

  /** A line of seedwrap's own (an error that never reached main's stderr). */
  note(line: string): void {
    this.append(Buffer.from(line.endsWith('\n') ? line : `${line}\n`, 'utf8'));
  }

  /**
   * The collected bytes as a string. Invalid UTF-8 becomes U+FFFD: the field
   * is a proto3 `string`, which Bazel's Java parser rejects if it is not UTF-8.
   */
  text(): string {
    if (this.chunks.length === 0) return '';
    const bytes = Buffer.concat(this.chunks);
    const tail = bytes.subarray(bytes.length - Math.min(bytes.length, MAX_REQUEST_OUTPUT_BYTES));
    const dropped = this.dropped + (bytes.length - tail.length);
    if (dropped === 0) return tail.toString('utf8');
    return `seedwrap worker: output too long: the first ${dropped} bytes were dropped, the last ${tail.length} follow\n${tail.toString('utf8')}`;
  }

  /** Keeps at most one chunk more than the cap: whole chunks fall off the front. */
  private append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.chunks.length > 1 && this.kept - this.chunks[0]!.length >= MAX_REQUEST_OUTPUT_BYTES) {
      const first = this.chunks.shift()!;
      this.kept -= first.length;
      this.dropped += first.length;
    }
  }

  private sink(): Writable {
    return new Writable({
      decodeStrings: true,
      write: (chunk: Buffer, _enc, done) => {
        this.append(chunk);
        done();
      },
      writev: (chunks, done) => {
        for (const c of chunks) this.append(c.chunk as Buffer);
        done();
      },
    });
  }
}
