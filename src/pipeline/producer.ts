import { lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { describe } from '../errors.ts';
import type { LineAction } from '../wrapper/rustcOutput.ts';
import { compileInputIds, depInfoPaths, startedAt } from './inputs.ts';
import { leaveMessage } from './finished.ts';
import { encode, sha256, unshareable } from './message.ts';
import type { Rendezvous } from './rendezvous.ts';

export interface ProducerContext {
  /** The action's cwd: rustc's relative artifact paths resolve here (the stable cwd is a bind of it). */
  cwd: string;
  /** Where rustc runs (the stable cwd), when not `cwd`: its absolute input paths start there. */
  rustcCwd?: string;
  /** The child's argv, param files inlined: its `--extern` files are inputs the consumer checks (the sources come from the dep-info). */
  args: readonly string[];
  /** This action's sandbox directory: a prefix or rmeta naming it would differ in another sandbox. */
  leak: string | undefined;
  debug?: (line: string) => void;
  /** The message once rustc reported the rmeta (or a refusal): the worker's shared rustc serves it itself (shared.ts). */
  onPublish?: (message: Buffer) => void;
}

/**
 * The full compile's side: listens on the rendezvous socket for the child's
 * whole life, and when rustc reports the rmeta, sends every connected and
 * later consumer the stderr prefix and the rmeta (message.ts). It never waits
 * for a consumer and never changes what its own action does or prints.
 */
export class Producer {
  private readonly prefix: Buffer[] = [];
  private depInfo: string | undefined;
  private message: Buffer | undefined;
  private readonly waiting = new Set<Socket>();
  private server: Server | undefined;
  private closed = false;
  /** Consumers sent the message: if none, it is left for one that starts later (finished.ts). */
  private served = 0;
  /** Made just before rustc starts: a source changed since may not be what rustc read. */
  private readonly since = startedAt();
  constructor(private readonly rv: Rendezvous, private readonly ctx: ProducerContext) {}

  /** Binds synchronously, so the socket exists before rustc starts; a stale socket is replaced, a live one left alone. */
  start(retry = true): void {
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    server.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' && retry && !this.closed) return this.reclaim();
      this.ctx.debug?.(`pipeline: not producing: ${this.rv.real}: ${describe(err)}`);
      this.server = undefined;
    });
    server.listen(this.rv.socket);
    // The connections hold the process while they send; the listener must not (one-shot exit).
    server.unref();
  }

  /** Another live producer of this very command keeps its socket; a dead one's file is removed and bound again. */
  private reclaim(): void {
    const probe = connect(this.rv.socket);
    probe.on('connect', () => {
      probe.destroy();
      this.server = undefined;
      this.ctx.debug?.('pipeline: not producing: another live compile of the same command holds the rendezvous');
    });
    probe.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNREFUSED' || this.closed) return void (this.server = undefined);
      removeStaleSocket(this.rv.real);
      this.start(false);
    });
  }

  private accept(sock: Socket): void {
    sock.on('error', () => this.waiting.delete(sock));
    if (this.message) {
      this.served++;
      return void sock.end(this.message);
    }
    this.waiting.add(sock);
    sock.on('close', () => this.waiting.delete(sock));
  }

  /** child.ts calls this for every JSON-processed stderr line until the rmeta. */
  readonly onLine = (line: Buffer, kind: LineAction['kind']): void => {
    if (this.message || this.closed) return;
    if (kind === 'not-json') return this.publish(this.refuse('rustc wrote a line that is not JSON before the rmeta'));
    this.prefix.push(line);
    if (kind === 'skip' && line.includes('"emit":"dep-info"')) this.depInfo = artifactOf(line);
    if (kind === 'metadata-done') this.publish(this.build(line));
  };

  /** The last refusal sent: never left behind for later consumers. */
  private unshared: Buffer | undefined;

  private refuse(reason: string): Buffer {
    this.unshared = unshareable(reason);
    return this.unshared;
  }

  private build(metadataLine: Buffer): Buffer {
    const artifact = artifactOf(metadataLine);
    if (artifact === undefined || isAbsolute(artifact)) return this.refuse(`the rmeta's path ${String(artifact)} is not relative to the working directory`);
    // Without the dep-info the sources rustc read are unknown, and unchecked.
    if (this.depInfo === undefined || isAbsolute(this.depInfo)) return this.refuse(`rustc reported no dep-info relative to the working directory (${String(this.depInfo)}): its sources cannot be checked`);
    let rmeta: Buffer;
    let sources: string[];
    try {
      rmeta = readFileSync(resolve(this.ctx.cwd, artifact));
      sources = depInfoPaths(resolve(this.ctx.cwd, this.depInfo));
    } catch (err) {
      return this.refuse(describe(err));
    }
    const prefix = Buffer.concat(this.prefix);
    const leak = this.ctx.leak;
    if (leak !== undefined && (prefix.includes(leak) || rmeta.includes(leak))) return this.refuse(`rustc's output names this action's sandbox ${leak}`);
    const inputs = compileInputIds(this.ctx.args, sources, this.ctx.cwd, this.ctx.rustcCwd, this.since);
    return encode({ header: { v: 1, prefix: prefix.length, rmeta: rmeta.length, sha256: sha256(rmeta), inputs }, prefix, rmeta });
  }

  private publish(message: Buffer): void {
    this.message = message;
    this.prefix.length = 0;
    this.ctx.debug?.(`pipeline: published to ${this.waiting.size} waiting metadata action(s)`);
    this.served += this.waiting.size;
    for (const sock of this.waiting) sock.end(message);
    this.waiting.clear();
    this.ctx.onPublish?.(message);
  }

  /**
   * After the child: no new consumers; one still waiting (no rmeta came) sees
   * the connection close and compiles itself. An rmeta no one took is left
   * for the metadata action that Bazel often starts only now.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.message && this.message !== this.unshared && this.served === 0) leaveMessage(this.rv.finished, this.message);
    for (const sock of this.waiting) sock.destroy();
    this.waiting.clear();
    const server = this.server;
    if (server?.listening) server.close(() => this.rv.release());
    else this.rv.release();
  }
}

function artifactOf(line: Buffer): string | undefined {
  try {
    const value = JSON.parse(line.toString('utf8')) as { artifact?: unknown };
    return typeof value.artifact === 'string' ? value.artifact : undefined;
  } catch {
    return undefined;
  }
}

/** Only a socket is removed: the directory is ours, but a file of another kind is not a rendezvous. */
export function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Gone already, or another producer replaced it: either way not ours to fix.
  }
}
