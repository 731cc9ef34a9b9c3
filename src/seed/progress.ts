import type { Writable } from 'node:stream';

/** Below this many files a seed takes a few milliseconds: a bar would only flicker. */
export const PROGRESS_MIN_FILES = 2000;
const WIDTH = 30;

export interface ProgressBar {
  update(done: number, total: number): void;
  finish(): void;
}

/** A one-line bar redrawn with `\r` at most ten times a second; only used when stderr is a TTY. */
export function progressBar(out: Writable): ProgressBar {
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (total < PROGRESS_MIN_FILES || (now - last < 100 && done < total)) return;
      last = now;
      const filled = Math.round((done / total) * WIDTH);
      out.write(`\rseeding [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${done}/${total} files`);
      drawn = true;
    },
    finish() {
      if (drawn) out.write('\r\x1b[K');
    },
  };
}
