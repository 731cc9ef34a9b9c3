import { Writable } from 'node:stream';

/**
 * One request's output buffer: the WorkResponse `output`. The request's
 * stdout and stderr are two Writables (main may end one when the child's
 * stream ends while the other still receives) appending to one list, so the
 * output keeps the order in which the bytes arrived.
 */
export class RequestOutput {
  private chunks: Buffer[] = [];
  readonly stdout: Writable;
  readonly stderr: Writable;

  constructor() {
    this.stdout = this.sink();
    this.stderr = this.sink();
  }

  /** A line of seedwrap's own (an error that never reached main's stderr). */
  note(line: string): void {
    this.chunks.push(Buffer.from(line.endsWith('\n') ? line : `${line}\n`, 'utf8'));
  }

  /**
   * The collected bytes as a string. Invalid UTF-8 becomes U+FFFD: the field
   * is a proto3 `string`, which Bazel's Java parser rejects if it is not UTF-8.
   */
  text(): string {
    if (this.chunks.length === 0) return '';
    return Buffer.concat(this.chunks).toString('utf8');
  }

  private sink(): Writable {
    return new Writable({
      decodeStrings: true,
      write: (chunk: Buffer, _enc, done) => {
        this.chunks.push(chunk);
        done();
      },
      writev: (chunks, done) => {
        for (const c of chunks) this.chunks.push(c.chunk as Buffer);
        done();
      },
    });
  }
}
