import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { SeedwrapError, describe } from './errors.ts';
import { notJsonError, processRustcLine, type RustcOutputFormat } from './rustcOutput.ts';
import { isForwardedSignal, signalExitCode, type ForwardedSignal } from './signals.ts';

/** Receives bytes; a file sink writes synchronously, a stream sink buffers. */
export type Sink = (bytes: Buffer) => void;

export interface ChildSpec {
  program: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  stdin: 'inherit' | 'ignore';
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
}

/** Resolves with the exit code process_wrapper would report. */
export function runChild(spec: ChildSpec): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(spec.program, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: [spec.stdin, typeof spec.stdout === 'object' ? 'pipe' : spec.stdout, 'pipe'],
    });
    let killedForMetadata = false;
    let forwardedSignal: ForwardedSignal | 'SIGKILL' | undefined;
    let nonJson = false;
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

    const onAbort = () => {
      const reason: unknown = spec.signal?.reason;
      forwardedSignal = isForwardedSignal(reason) ? reason : 'SIGKILL';
      child.kill(forwardedSignal);
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
      // Once a line is not JSON, everything after it is forwarded raw, in order.
      const rest = nonJson ? lines.flush() : undefined;
      if (rest) passThrough(rest);
    });
    stderr.on('end', () => {
      const rest = lines?.flush();
      if (rest) nonJson ? passThrough(rest) : handleLine(rest);
    });

    function handleLine(line: Buffer): void {
      if (killedForMetadata) return;
      lineNumber++;
      spec.rawStderr?.(line);
      const action = processRustcLine(line, spec.format!, spec.quitOnRmeta);
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
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      spec.signal?.removeEventListener('abort', onAbort);
      spec.debug?.(`child exited: code=${code} signal=${signal}`);
      // Upstream fails the action, whatever rustc's exit, after forwarding the rest.
      if (nonJson && !(forwardedSignal && signal === forwardedSignal)) return reject(notJsonError(lineNumber));
      resolve(exitCode(code, signal));
    });

    function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
      if (killedForMetadata) return 0;
      if (code !== null) return code;
      // A signal we forwarded (SIGTERM from Bazel, Ctrl-C) reports the shell's
      // 128+n; any other signal death, or our SIGKILL on cancel, is exit 1.
      if (forwardedSignal && forwardedSignal !== 'SIGKILL' && signal === forwardedSignal) return signalExitCode(forwardedSignal);
      return 1;
    }
  });
}

/** Splits a byte stream on `\n` only (readline would also split on a lone `\r`). */
export class LineSplitter {
  private pending: Buffer[] = [];

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
      } else {
        out.push(piece);
      }
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
    return out;
  }

  flush(): Buffer | undefined {
    if (this.pending.length === 0) return undefined;
    const rest = Buffer.concat(this.pending);
    this.pending = [];
    return rest;
  }
}
