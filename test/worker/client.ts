import type { Readable, Writable } from 'node:stream';
import type { WorkRequest, WorkResponse } from '../../src/worker/messages.ts';
import { encodeWorkRequestFrame, readLengthPrefix } from '../../src/worker/proto.ts';

/** Decodes WorkResponse bodies independently of the worker's encoder (tests only). */
export function decodeWorkResponse(b: Buffer): WorkResponse {
  const res: WorkResponse = { exitCode: 0, output: '', requestId: 0, wasCancelled: false };
  let pos = 0;
  const varint = () => {
    let lo = 0;
    let shift = 0;
    let byte = 0;
    do {
      byte = b[pos++]!;
      if (shift < 32) lo |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return lo | 0;
  };
  while (pos < b.length) {
    const tag = varint();
    const field = tag >>> 3;
    if ((tag & 7) === 2) {
      const len = varint();
      const s = b.subarray(pos, pos + len).toString('utf8');
      pos += len;
      if (field === 2) res.output = s;
    } else {
      const v = varint();
      if (field === 1) res.exitCode = v;
      if (field === 3) res.requestId = v;
      if (field === 4) res.wasCancelled = v !== 0;
    }
  }
  return res;
}

/** A request's arguments that run `script` through /bin/sh. */
export const sh = (script: string): string[] => ['--', '/bin/sh', '-c', script];

/**
 * Shell text that proves concurrency without timing: the child marks itself
 * started in `dir`, then waits until `n` children have, and exits 99 if that
 * never happens within `giveUpS` seconds. Run one after another, the first
 * child never sees the others, so a worker that serialised requests fails on
 * the exit code, however fast or slow the machine.
 */
export function barrier(dir: string, id: number, n: number, giveUpS = 60): string {
  return `mkdir -p ${dir}; : > ${dir}/${id}; i=0; while [ "$(ls ${dir} | wc -l)" -lt ${n} ]; do i=$((i+1)); [ $i -gt ${giveUpS * 20} ] && exit 99; sleep 0.05; done`;
}

/** Whether a process with this pid still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function jsonRequest(r: Partial<WorkRequest>): string {
  const o: Record<string, unknown> = {};
  if (r.arguments?.length) o.arguments = r.arguments;
  if (r.requestId) o.requestId = r.requestId;
  if (r.cancel) o.cancel = true;
  if (r.verbosity) o.verbosity = r.verbosity;
  if (r.sandboxDir) o.sandboxDir = r.sandboxDir;
  return JSON.stringify(o);
}

/**
 * Talks to a worker over its stdin/stdout as Bazel does: writes request
 * frames, collects responses and matches them to requests by id.
 */
export class WorkerClient {
  readonly responses: WorkResponse[] = [];
  private buf = Buffer.alloc(0);
  private waiters: Array<{ id: number; resolve: (r: WorkResponse) => void }> = [];

  constructor(private readonly input: Writable, output: Readable, readonly protocol: 'proto' | 'json') {
    output.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  send(req: Partial<WorkRequest>): void {
    this.input.write(this.protocol === 'proto' ? encodeWorkRequestFrame(req) : jsonRequest(req));
  }

  /** Resolves with the response for `id` (responses can arrive in any order). */
  response(id: number): Promise<WorkResponse> {
    const i = this.responses.findIndex((r) => r.requestId === id);
    if (i >= 0) return Promise.resolve(this.responses.splice(i, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ id, resolve }));
  }

  async request(req: Partial<WorkRequest>): Promise<WorkResponse> {
    this.send(req);
    return this.response(req.requestId ?? 0);
  }

  /** Closes the worker's stdin (EOF). */
  end(): void {
    this.input.end();
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      let res: WorkResponse;
      if (this.protocol === 'proto') {
        const p = readLengthPrefix(this.buf, 0);
        if (!p || this.buf.length < p.next + p.length) return;
        res = decodeWorkResponse(this.buf.subarray(p.next, p.next + p.length));
        this.buf = this.buf.subarray(p.next + p.length);
      } else {
        const nl = this.buf.indexOf(0x0a);
        if (nl < 0) return;
        const o = JSON.parse(this.buf.subarray(0, nl).toString('utf8')) as Partial<WorkResponse>;
        this.buf = this.buf.subarray(nl + 1);
        res = { exitCode: o.exitCode ?? 0, output: o.output ?? '', requestId: o.requestId ?? 0, wasCancelled: o.wasCancelled ?? false };
      }
      const w = this.waiters.findIndex((x) => x.id === res.requestId);
      if (w >= 0) this.waiters.splice(w, 1)[0]!.resolve(res);
      else this.responses.push(res);
    }
  }
}
