import { connect } from 'node:net';
import { removeStaleSocket } from './producer.ts';
import type { Rendezvous } from './rendezvous.ts';
import { localOwner, type Want } from './shared.ts';

/**
 * A request's side: the reply of this process's own shared rustc or of
 * another worker's, or `none` when no live one exists. Cancelling detaches.
 */
export function request(rv: Rendezvous, want: Want, signal: AbortSignal | undefined): Promise<{ kind: 'reply'; tag: string; bytes: Buffer } | { kind: 'none'; live: boolean } | { kind: 'cancelled' }> {
  return new Promise((done) => {
    if (signal?.aborted) return done({ kind: 'cancelled' });
    const reply = (buf: Buffer) => ({ kind: 'reply' as const, tag: buf.subarray(0, 1).toString(), bytes: buf.subarray(1) });
    const local = localOwner(rv);
    if (local) {
      const onAbort = () => {
        detach();
        done({ kind: 'cancelled' });
      };
      const detach = local.attach(want, (buf) => {
        signal?.removeEventListener('abort', onAbort);
        done(reply(buf));
      });
      return signal?.addEventListener('abort', onAbort, { once: true });
    }
    const chunks: Buffer[] = [];
    const sock = connect(rv.socket);
    let connected = false;
    let settled = false;
    const settle = (r: Awaited<ReturnType<typeof request>>) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      done(r);
    };
    const onAbort = () => settle({ kind: 'cancelled' });
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('connect', () => {
      connected = true;
      sock.write(want);
    });
    sock.on('data', (c: Buffer) => void chunks.push(c));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') removeStaleSocket(rv.real);
      settle({ kind: 'none', live: connected });
    });
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      settle(all.length > 0 ? reply(all) : { kind: 'none', live: connected });
    });
  });
}
