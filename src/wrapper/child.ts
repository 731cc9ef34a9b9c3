import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { SeedwrapError, describe } from '../errors.ts';
import { notJsonError, processRustcLine, type LineAction, type RustcOutputFormat } from './rustcOutput.ts';
import { isForwardedSignal, signalExitCode, type ForwardedSignal } from './signals.ts';

/** Receives bytes; a file sink writes synchronously, a stream sink buffers. */
export type Sink = (bytes: Buffer) => void;

export interface ChildSpec {
  program: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  stdin: 'inherit' | 'ignore';
  /** Descriptors the child inherits as its fd 3 on (the store's pin, stableCwd.ts's bindFds). */
  extraFds?: number[];
  /** 'inherit' (our fd 1), a file descriptor (`--stdout-file`), or a stream (worker). */
  stdout: 'inherit' | number | Writable;
  stderr: Sink;
  /** `--output-file`: every raw stderr line, before processing. */
  rawStderr?: Sink;
  format?: RustcOutputFormat;
  quitOnRmeta: boolean;
  /** Aborting kills the child: reason 'SIGTERM'/'SIGINT'/... forwards that signal, anything else SIGKILLs. */
  signal?: AbortSignal;
  debug?: (line: string) => void;
  /** Runs once the program has started (not if it cannot be): upstream opens `--stderr-file` and `--output-file` only then. */
  onSpawn?: () => void;
  /**
   * Exit codes reported as they are even after a non-JSON line, instead of
   * upstream's parse error: the store retries an internal compiler error
   * (exit 101), whose panic text is not JSON.
   */
  keepExitCode?: (code: number) => boolean;
  /**
   * Pipelining's producer (src/pipeline/): every JSON-processed stderr line of
   * a full compile, as read; the metadata notification is reported to it
   * (`metadata-done`) without ending the child.
   */
  onRustcLine?: (line: Buffer, kind: LineAction['kind']) => void;
}

/**
 * The longest stderr line held for `--rustc-output-format` processing. rustc's
 * JSON diagnostics are kilobytes; holding a 300 MB line cost about 3× its
 * size (the pieces, the joined line, the decoded string).
 */
export const MAX_RUSTC_LINE_BYTES = 32 * 1024 * 1024;

/** How long a cancelled child's pipes are still read after it exits. */
const CANCEL_DRAIN_MS = 200;

/** Resolves with the exit code process_wrapper would report. */
export function runChild(spec: ChildSpec): Promise<number> {
  return new Promise((resolve, reject) => {
    // A sink that fails (ENOSPC on --stderr-file) ends the child, and the run
    // fails with the sink's error once the child is gone: never an uncaught
    // exception from a stream handler, which would orphan the child (and, in
    // the worker, end every request).
    let sinkError: unknown;
    const guard = (sink: Sink): Sink => (bytes) => {
      if (sinkError !== undefined) return;
      try {
        sink(bytes);
      } catch (err) {
        sinkError = err;
        child.kill('SIGKILL');
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
    };
    spec = { ...spec, stderr: guard(spec.stderr), rawStderr: spec.rawStderr && guard(spec.rawStderr) };
    checkNoNul(spec);
    const child = spawn(spec.program, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: [spec.stdin, typeof spec.stdout === 'object' ? 'pipe' : spec.stdout, 'pipe', ...(spec.extraFds ?? [])],
    });
    let killedForMetadata = false;
    let forwardedSignal: ForwardedSignal | 'SIGKILL' | undefined;
    let nonJson = false;
    let lineCapped = false;
    let lineNumber = 0;
    let settled = false;
    // A program that cannot be started has no pid; its 'error' event follows.
    if (child.pid !== undefined) {
      try {
        spec.onSpawn?.();
      } catch (err) {
        child.kill('SIGKILL');
        child.stderr?.destroy();
        settled = true;
        return reject(err);
      }
    }

    let exited = false;
    const onAbort = () => {
      const reason: unknown = spec.signal?.reason;
      forwardedSignal = isForwardedSignal(reason) ? reason : 'SIGKILL';
      child.kill(forwardedSignal);
      // A grandchild may still hold the pipes (`sh -c 'sleep 600 & …'`): a
      // cancelled action does not wait for it.
      if (exited) settleCancelled();
    };
    if (spec.signal?.aborted) onAbort();
    else spec.signal?.addEventListener('abort', onAbort, { once: true });

    if (typeof spec.stdout === 'object' && child.stdout) {
      const out = spec.stdout;
      child.stdout.on('data', (chunk: Buffer) => out.write(chunk));
    }

    const stderr = child.stderr!;
    const lines = spec.format === undefined ? undefined : new LineSplitter();
    const passThrough = (bytes: Buffer) => {
      // The bytes as rustc wrote them, no decoding; after a non-JSON line
      // (upstream) `--output-file` has what came up to that line only.
      if (!nonJson) spec.rawStderr?.(bytes);
      spec.stderr(bytes);
    };
    stderr.on('data', (chunk: Buffer) => {
      if (!lines || nonJson) return passThrough(chunk);
      for (const line of lines.push(chunk)) {
        if (nonJson) passThrough(line);
        else handleLine(line);
      }
      if (!nonJson && lines.pendingBytes > MAX_RUSTC_LINE_BYTES) lineTooLong();
      // Once a line is not JSON, everything after it is forwarded raw, in order.
      const rest = nonJson ? lines.flush() : undefined;
      if (rest) passThrough(rest);
    });
    stderr.on('end', () => {
      const rest = lines?.flush();
      if (rest) nonJson ? passThrough(rest) : handleLine(rest);
    });

    /** A line past the cap is not held for parsing: it and the rest go out raw, and the action fails. */
    function lineTooLong(): void {
      nonJson = true;
      lineCapped = true;
      spec.stderr(Buffer.from(`seedwrap: --rustc-output-format: a line of rustc's stderr is longer than ${MAX_RUSTC_LINE_BYTES} bytes; it and the rest of stderr are forwarded unprocessed\n`));
    }

    function handleLine(line: Buffer): void {
      if (killedForMetadata) return;
      lineNumber++;
      spec.rawStderr?.(line);
      const action = processRustcLine(line, spec.format!, spec.quitOnRmeta || spec.onRustcLine !== undefined);
      spec.onRustcLine?.(line, action.kind);
      switch (action.kind) {
        case 'write':
          return spec.stderr(action.bytes);
        case 'skip':
          return;
        case 'not-json':
          nonJson = true;
          spec.debug?.('non-JSON line from rustc: forwarding the rest of stderr raw');
          return spec.stderr(line);
        case 'metadata-done':
          if (!spec.quitOnRmeta) return;
          // Pipelining: the .rmeta is complete, and the full compile runs as a
          // separate action, so this one need not wait for codegen.
          killedForMetadata = true;
          spec.debug?.('metadata artifact written: killing rustc');
          child.kill('SIGKILL');
          stderr.destroy();
          return;
      }
    }

    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      spec.signal?.removeEventListener('abort', onAbort);
      reject(new SeedwrapError('SPAWN', `failed to spawn child process ${spec.program}: ${describe(err)}`, { cause: err }));
    });
    let drain: ReturnType<typeof setTimeout> | undefined;
    child.on('exit', () => {
      exited = true;
      // What is still in the pipes is read for a moment, not until a grandchild lets go.
      if (forwardedSignal) drain = setTimeout(settleCancelled, CANCEL_DRAIN_MS);
    });
    function settleCancelled(): void {
      if (settled) return;
      settled = true;
      spec.signal?.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      spec.debug?.(`child exited after ${forwardedSignal}; not waiting for its pipes`);
      resolve(exitCode(null));
    }
    child.on('close', (code, signal) => {
      clearTimeout(drain);
      if (settled) return;
      settled = true;
      spec.signal?.removeEventListener('abort', onAbort);
      spec.debug?.(`child exited: code=${code} signal=${signal}`);
      if (sinkError !== undefined && !forwardedSignal) return reject(sinkError);
      // Upstream fails the action, whatever rustc's exit, after forwarding the rest;
      // an over-long line has said why already. A cancelled action reports its signal.
      if (nonJson && !lineCapped && !forwardedSignal && !(code !== null && spec.keepExitCode?.(code))) return reject(notJsonError(lineNumber));
      resolve(exitCode(code));
    });

    function exitCode(code: number | null): number {
      // A cancelled action never looks successful, whatever the child did
      // (trapped TERM and exited 0, or was already gone): upstream's wrapper
      // has no handler and dies of the signal itself. 128+n, or 1 for the
      // worker's cancel (SIGKILL).
      if (forwardedSignal) return forwardedSignal === 'SIGKILL' ? 1 : signalExitCode(forwardedSignal);
      if (killedForMetadata) return 0;
      if (code !== null) return code === 0 && nonJson ? 1 : code;
      // A signal death we did not cause is exit 1.
      return 1;
    }
  });
}

/**
 * execve(2) takes C strings: a NUL byte (from an arg file, env file or worker
 * request) cannot reach the child. Named here instead of Node's TypeError,
 * which surfaced as an internal error.
 */
function checkNoNul(spec: ChildSpec): void {
  const nul = (s: string) => s.includes('\0');
  const show = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
  if (nul(spec.program)) throw new SeedwrapError('INPUT', `the program to run, ${show(spec.program)}, contains a NUL byte`);
  spec.args.forEach((a, i) => {
    if (nul(a)) throw new SeedwrapError('INPUT', `argument ${i + 1} of the child, ${show(a)}, contains a NUL byte, which no program can receive`);
  });
  for (const [k, v] of Object.entries(spec.env)) {
    if (nul(k) || nul(v)) throw new SeedwrapError('INPUT', `environment variable ${show(k)} of the child contains a NUL byte, which no program can receive`);
  }
}

/** Splits a byte stream on `\n` only (readline would also split on a lone `\r`). */
export class LineSplitter {
  private pending: Buffer[] = [];
  /** Bytes held for a line whose `\n` has not arrived yet. */
  pendingBytes = 0;

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let start = 0;
    let nl = chunk.indexOf(0x0a, start);
    while (nl >= 0) {
      const piece = chunk.subarray(start, nl + 1);
      if (this.pending.length > 0) {
        this.pending.push(piece);
        out.push(Buffer.concat(this.pending));
        this.pending = [];
        this.pendingBytes = 0;
      } else {
        out.push(piece);
      }
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
    }
    return out;
  }

  flush(): Buffer | undefined {
    if (this.pending.length === 0) return undefined;
    const rest = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return rest;
  }
}
