import type { Writable } from 'node:stream';

/**
 * Everything `main` needs from the outside world. The bin shim passes the real
 * process; the worker passes one Io per request (its own output buffer, the
 * request's sandbox directory, an AbortSignal for `cancel`); tests pass temp
 * directories and collecting streams.
 */
export interface Io {
  /** Working directory for path resolution, `${pwd}` and the child. */
  cwd: string;
  /** The inherited environment the child's env is computed from. */
  env: Record<string, string | undefined>;
  /**
   * Where the child's stdout goes when there is no `--stdout-file`:
   * 'inherit' hands the child our fd 1 (one-shot mode, zero copies); a stream
   * receives the bytes (worker mode, where stdout carries frames only).
   */
  stdout: 'inherit' | Writable;
  /** Where forwarded diagnostics and seedwrap's own messages go. */
  stderr: Writable;
  /** stdin for the child: inherited in one-shot mode, ignored in worker mode. */
  stdin: 'inherit' | 'ignore';
  /** Aborting kills the child (worker `cancel`); main then resolves. */
  signal?: AbortSignal;
  /**
   * A request of a worker that is not sandboxed (every request runs in the
   * one execroot): a crate's metadata and full requests may share one rustc
   * (src/pipeline/shared.ts).
   */
  sharedRustc?: boolean;
}
