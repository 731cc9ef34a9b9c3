import { connect } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { describe } from '../errors.ts';
import { replaceFile } from '../fsSafe.ts';
import { processRustcLine, type RustcOutputFormat } from '../wrapper/rustcOutput.ts';
import { LineSplitter } from '../wrapper/child.ts';
import { changedInput } from './inputs.ts';
import { decode, type Message } from './message.ts';
import { removeStaleSocket } from './producer.ts';
import type { Rendezvous } from './rendezvous.ts';

/** `live`: a producer was connected (it ended without an rmeta) rather than absent. */
export type Received = { kind: 'message'; message: Message } | { kind: 'none'; reason: string; live: boolean } | { kind: 'cancelled' };

/**
 * The metadata action's side: connect, and wait only while the producer's
 * process lives. No socket, a dead one's socket (ECONNREFUSED), a connection
 * that closes before a whole message, or a cancel ends the wait at once.
 */
export function receive(rv: Rendezvous, signal: AbortSignal | undefined, debug?: (line: string) => void): Promise<Received> {
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    const sock = connect(rv.socket);
    let settled = false;
    const settle = (r: Received) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      done(r);
    };
    const onAbort = () => settle({ kind: 'cancelled' });
    if (signal?.aborted) return settle({ kind: 'cancelled' });
    signal?.addEventListener('abort', onAbort, { once: true });
    let connected = false;
    sock.on('connect', () => {
      connected = true;
      debug?.('pipeline: waiting for the running full compile of this crate');
    });
    sock.on('data', (chunk: Buffer) => void chunks.push(chunk));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // A stale socket left by a producer that was SIGKILLed.
      if (err.code === 'ECONNREFUSED') removeStaleSocket(rv.real);
      // A producer killed while we wait resets the connection (ECONNRESET) as often as it closes it: the same event.
      const reason = err.code === 'ENOENT' ? 'no full compile of this crate is running' : connected && err.code === 'ECONNRESET' ? 'the producer ended before it sent the rmeta' : describe(err);
      settle({ kind: 'none', reason, live: connected });
    });
    sock.on('close', () => {
      const m = decode(Buffer.concat(chunks));
      settle('reason' in m ? { kind: 'none', reason: m.reason, live: connected } : { kind: 'message', message: m });
    });
  });
}

/** Why the received message cannot stand for this action's own compile, or its artifact path. */
export function check(m: Message, format: RustcOutputFormat, cwd: string): { artifact: string; lines: Buffer[] } | { reason: string } {
  const changed = changedInput(m.header.inputs, cwd);
  if (changed !== undefined) return { reason: `input ${changed} is not the file the full compile read` };
  const splitter = new LineSplitter();
  const lines = splitter.push(m.prefix);
  const rest = splitter.flush();
  if (rest) lines.push(rest);
  const last = lines.at(-1);
  if (!last || processRustcLine(last, format, true).kind !== 'metadata-done') return { reason: 'the prefix does not end at the rmeta' };
  if (lines.slice(0, -1).some((l) => ['metadata-done', 'not-json'].includes(processRustcLine(l, format, true).kind))) return { reason: 'unexpected line before the rmeta' };
  const artifact = (JSON.parse(last.toString('utf8')) as { artifact: string }).artifact;
  if (isAbsolute(artifact)) return { reason: `absolute rmeta path ${artifact}` };
  return { artifact, lines };
}

/** The rmeta into this action's own output path (fsSafe.replaceFile: a planted symlink is replaced, never followed). */
export function writeRmeta(cwd: string, artifact: string, rmeta: Buffer): void {
  replaceFile(resolve(cwd, artifact), rmeta, 0o666);
}
