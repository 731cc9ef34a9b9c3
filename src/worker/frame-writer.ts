import type { Writable } from 'node:stream';

/**
 * The only writer of the worker's stdout. Each response frame goes out in one
 * `write` call, so concurrent requests can never interleave bytes of two
 * frames. A broken stdout (Bazel went away: EPIPE) is reported once through
 * `onBroken`; the worker then stops.
 */
export class FrameWriter {
  private broken = false;

  constructor(private readonly out: Writable, private readonly onBroken: (err: Error) => void) {
    out.on('error', (err: Error) => this.fail(err));
  }

  write(frame: Buffer): void {
    if (this.broken) return;
    try {
      this.out.write(frame);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Resolves once everything written so far has been handed to the OS. */
  flush(): Promise<void> {
    if (this.broken || !this.out.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('error', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('error', done);
      this.out.on('close', done);
    });
  }

  private fail(err: Error): void {
    if (this.broken) return;
    this.broken = true;
    this.onBroken(err);
  }
}
