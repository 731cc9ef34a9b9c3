import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { LineAction } from '../wrapper/rustcOutput.ts';
import { leaveMessage } from './finished.ts';
import { encodeFinal, sweepFinals, type FinalHeader } from './final.ts';
import { stashArtifact, writableOutputs } from './outputs.ts';
import { compileInputIds, depInfoPaths, startedAt } from './inputs.ts';
import { decode } from './message.ts';
import { Producer, removeStaleSocket } from './producer.ts';
import type { Rendezvous } from './rendezvous.ts';

/**
 * The worker's one rustc per pipelined crate (docs/pipelining.md, "In the
 * persistent worker"). Bazel runs a crate's `Rustc` and `RustcMetadata`
 * requests in two worker processes (one per mnemonic) that share the
 * execroot as cwd, so whichever request comes first starts rustc with the
 * full command and listens on `<key>.wsock`; the other request, from either
 * process, sends one byte, `M` (answered at the rmeta notification with the
 * one-shot producer's message) or `F` (answered when rustc ends, with its
 * whole stderr and exit code: final.ts). The reply is a tag byte, `m` or `f`,
 * and the payload; then the connection closes. The rustc is never killed at
 * the rmeta: it ends on its own, or when the last attached full request is
 * cancelled with nothing else attached.
 */
export type Want = 'M' | 'F';

/** Runs the shared rustc (main's child, the store's retries included) with these hooks instead of a request's outputs. */
export type StartShared = (hooks: SharedHooks) => Promise<number>;
export interface SharedHooks {
  onLine: (line: Buffer, kind: LineAction['kind']) => void;
  rawLine: (line: Buffer) => void;
  /** A rerun (the store's, after exit 101) starts the lines anew. */
  reset: () => void;
  signal: AbortSignal;
}

interface Waiter {
  want: Want;
  deliver: (reply: Buffer) => void;
}

/** The shared rustcs this process runs, by socket path. */
const owners = new Map<string, SharedRustc>();
process.on('exit', () => {
  // The worker is going away (Bazel's SIGTERM): no rustc of ours outlives it.
  for (const o of owners.values()) o.kill();
});

export function localOwner(rv: Rendezvous): SharedRustc | undefined {
  return owners.get(rv.real);
}

export class SharedRustc {
  private message: Buffer | undefined;
  private final: Buffer | undefined;
  private readonly waiters = new Set<Waiter>();
  private lines: Buffer[] = [];
  private artifacts: FinalHeader['artifacts'] = [];
  private depInfo: string | undefined;
  private notJson = false;
  private fullServed = 0;
  private metaServed = 0;
  private killed = false;
  private readonly controller = new AbortController();
  private producer: Producer;
  private readonly stash: string;
  /** Before rustc starts (run): an input changed since may not be what rustc read. */
  private since = startedAt();

  private constructor(private readonly rv: Rendezvous, private readonly server: Server, private readonly ctx: { cwd: string; rustcCwd?: string; args: readonly string[]; finished: string; debug?: (line: string) => void }) {
    this.stash = `${rv.real.replace(/\.wsock$/, '')}.out.${process.pid}-${Math.random().toString(36).slice(2)}`;
    this.producer = this.newProducer();
    server.on('connection', (sock) => this.accept(sock));
    server.unref();
    owners.set(rv.real, this);
  }

  /** Binds `<key>.wsock`; undefined when a live owner (in another worker) holds it. A dead one's socket is replaced. */
  static async listen(rv: Rendezvous, ctx: SharedRustc['ctx']): Promise<SharedRustc | undefined> {
    const server = (await bind(rv)) ?? (await reclaim(rv));
    if (!server) rv.release();
    return server && new SharedRustc(rv, server, ctx);
  }

  run(start: StartShared): void {
    this.since = startedAt();
    sweepFinals(join(this.rv.real, '..'));
    writableOutputs(this.ctx.cwd, this.ctx.args);
    const hooks: SharedHooks = {
      onLine: (line, kind) => this.onLine(line, kind),
      rawLine: (line) => void this.lines.push(line),
      reset: () => {
        this.lines = [];
        this.artifacts = [];
        if (!this.message) this.producer = this.newProducer();
      },
      signal: this.controller.signal,
    };
    start(hooks).then(
      (code) => this.end(code),
      (err: unknown) => this.end(undefined, String(err)),
    );
  }

  /** Serves `want` now or later; the returned function detaches it (cancel). */
  attach(want: Want, deliver: (reply: Buffer) => void): () => void {
    // A metadata request takes the rmeta even after the end; the whole result only if there never was one.
    const now = want === 'M' && this.message ? this.message : this.final;
    if (now) {
      this.serve({ want, deliver }, now);
      return () => {};
    }
    const w = { want, deliver };
    this.waiters.add(w);
    return () => {
      if (!this.waiters.delete(w)) return;
      if (w.want === 'F' && this.waiters.size === 0 && !this.final) {
        this.ctx.debug?.('pipeline: the full request was cancelled and nothing else waits: ending the shared rustc');
        this.kill();
      }
    };
  }

  kill(): void {
    this.killed = true;
    this.controller.abort();
  }

  private newProducer(): Producer {
    return new Producer(this.rv, { cwd: this.ctx.cwd, rustcCwd: this.ctx.rustcCwd, args: this.ctx.args, leak: undefined, debug: this.ctx.debug, onPublish: (m) => this.publish(m) });
  }

  private serve(w: Waiter, reply: Buffer): void {
    if (reply === this.final && w.want === 'F') this.fullServed++;
    if (reply === this.message) this.metaServed++;
    w.deliver(reply);
  }

  private accept(sock: Socket): void {
    let detach: (() => void) | undefined;
    sock.on('error', () => detach?.());
    sock.once('close', () => detach?.());
    sock.once('data', (chunk: Buffer) => {
      const want = chunk[0] === 0x46 ? 'F' : chunk[0] === 0x4d ? 'M' : undefined;
      if (want === undefined) return void sock.destroy();
      detach = this.attach(want, (reply) => {
        detach = undefined;
        sock.end(reply);
      });
    });
  }

  private onLine(line: Buffer, kind: LineAction['kind']): void {
    if (kind === 'not-json') this.notJson = true;
    this.producer.onLine(line, kind);
    const artifact = artifactOf(line);
    if (artifact === undefined) return;
    if (artifact.emit === 'dep-info') this.depInfo = artifact.path;
    this.artifacts.push({ path: artifact.path, stash: stashArtifact(this.ctx.cwd, artifact.path, this.stash, this.artifacts.length) });
  }

  private publish(message: Buffer): void {
    this.message = Buffer.concat([Buffer.from('m'), message]);
    for (const w of [...this.waiters]) {
      if (w.want !== 'M') continue;
      this.waiters.delete(w);
      this.serve(w, this.message);
    }
  }

  private end(code: number | undefined, failure?: string): void {
    const header: FinalHeader = { v: 1, code: code ?? 1, stderr: 0, inputs: [], artifacts: this.artifacts };
    if (failure !== undefined) header.unshareable = failure;
    else if (this.notJson) header.unshareable = 'rustc wrote a line that is not JSON';
    else if (this.killed) header.unshareable = 'the shared rustc was cancelled';
    const stderr = Buffer.concat(this.lines);
    header.stderr = stderr.length;
    // No dep-info (rustc stopped before it, say at a syntax error): the sources it read are unknown.
    if (this.depInfo === undefined) header.unshareable ??= 'rustc reported no dep-info: its sources cannot be checked';
    try {
      header.inputs = compileInputIds(this.ctx.args, this.depInfo ? depInfoPaths(join(this.ctx.cwd, this.depInfo)) : [], this.ctx.cwd, this.ctx.rustcCwd, this.since);
    } catch (err) {
      header.unshareable ??= `cannot read the dep-info: ${String(err)}`;
    }
    this.final = Buffer.concat([Buffer.from('f'), encodeFinal({ header, stderr })]);
    for (const w of this.waiters) this.serve(w, this.final);
    this.waiters.clear();
    this.ctx.debug?.(`pipeline: the shared rustc ended with ${String(code)} (${this.fullServed} full, ${this.metaServed} metadata request(s) served)`);
    if (this.fullServed === 0) {
      if (header.unshareable === undefined) leaveMessage(`${this.rv.real.replace(/\.wsock$/, '')}.done`, this.final.subarray(1));
      // Nothing will restore from a result that cannot be shared (a cancelled rustc, an ICE).
      else rmSync(this.stash, { recursive: true, force: true });
    }
    // A metadata request of a later build may come after this rustc: the one-shot message file serves it.
    if (this.message && this.metaServed === 0 && !('reason' in decode(this.message.subarray(1)))) leaveMessage(this.ctx.finished, this.message.subarray(1));
    owners.delete(this.rv.real);
    this.server.close(() => this.rv.release());
  }
}

function artifactOf(line: Buffer): { path: string; emit: string } | undefined {
  if (!line.includes('"artifact"')) return undefined;
  try {
    const v = JSON.parse(line.toString('utf8')) as { artifact?: unknown; emit?: unknown };
    return typeof v.artifact === 'string' && typeof v.emit === 'string' ? { path: v.artifact, emit: v.emit } : undefined;
  } catch {
    return undefined;
  }
}

function bind(rv: Rendezvous): Promise<Server | undefined> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(undefined));
    server.listen(rv.socket, () => done(server));
  });
}

/** The path is taken: by a live owner (keep out), or a dead one's socket (remove it, bind once more). */
function reclaim(rv: Rendezvous): Promise<Server | undefined> {
  return new Promise((done) => {
    const probe = connect(rv.socket);
    probe.once('connect', () => {
      probe.destroy();
      done(undefined);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNREFUSED') return done(undefined);
      removeStaleSocket(rv.real);
      void bind(rv).then(done);
    });
  });
}
