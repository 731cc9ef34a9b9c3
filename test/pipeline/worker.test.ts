import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/wrapper/main.ts';
import { runWorker } from '../../src/worker/index.ts';
import type { WorkResponse } from '../../src/worker/messages.ts';
import { tempDir } from '../helpers/tmp.ts';
import { alive, WorkerClient } from '../worker/client.ts';
import { actionArgs, crateSource, haveRustc, RMETA, RUSTC, workspace, type Workspace } from './helpers.ts';

/**
 * The worker's one rustc for both requests of a pipelined crate
 * (src/pipeline/shared.ts): two in-process workers, one per mnemonic as
 * Bazel runs them, both in the one execroot. rustc runs behind a script that
 * logs each start (`<pid> <cwd>`) to `<ob>/runs.log`, sleeps `<ob>/delay`
 * seconds first, and, when `<ob>/after` exists, stays alive that long after
 * rustc ended (so a request can reliably come while it still runs).
 */
const RLIB = join('out', 'libapp-app1.rlib');
const DEPINFO = join('out', 'app-app1.d');

interface Setup {
  ws: Workspace;
  ob: string;
  /** The rendezvous directory. */
  dir: string;
  rustc: Worker;
  meta: Worker;
  runs(): string[];
}

interface Worker {
  client: WorkerClient;
  exit: Promise<number>;
}

const live: Worker[] = [];
afterEach(async () => {
  for (const w of live.splice(0)) {
    w.client.end();
    await w.exit;
  }
});

function setup(opts: { store?: boolean; source?: string; exec?: boolean } = {}): Setup {
  const ob = tempDir('seedwrap-wpipe-');
  const ws = workspace(ob, opts.source);
  mkdirSync(join(ws.execroot, 'out'));
  // The tool of actionArgs, replaced: `exec` keeps the pid (a cancel kills rustc itself); otherwise the shell outlives rustc by `after`.
  const tail = opts.exec ? `exec '${RUSTC}' "$@"` : `'${RUSTC}' "$@"; rc=$?; [ -f '${ob}/after' ] && sleep "$(cat '${ob}/after')"; exit $rc`;
  writeFileSync(ws.tool, `#!/bin/sh\necho "$$ $PWD" >> '${ob}/runs.log'\n[ -f '${ob}/delay' ] && sleep "$(cat '${ob}/delay')"\n${tail}\n`);
  chmodSync(ws.tool, 0o755);
  const dir = opts.store ? join(ob, 'store', '.seedwrap-pipeline') : join(ob, 'pipe');
  if (!opts.store) mkdirSync(dir, { mode: 0o700 });
  const startup = opts.store ? ['--worker-incremental-dir', join(ob, 'store')] : [];
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, RULES_RUST_PROCESS_WRAPPER_DEBUG: '1', ...(opts.store ? {} : { SEEDWRAP_PIPELINE_DIR: dir }) };
  const start = (): Worker => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const w = { client: new WorkerClient(stdin, stdout, 'proto'), exit: runWorker(startup, { stdin, stdout, stderr: new PassThrough(), cwd: ws.execroot, env }, main) };
    live.push(w);
    return w;
  };
  const runs = () => (existsSync(join(ob, 'runs.log')) ? readFileSync(join(ob, 'runs.log'), 'utf8').split('\n').filter(Boolean) : []);
  return { ws, ob, dir, rustc: start(), meta: start(), runs };
}

let nextId = 1;
function send(w: Worker, args: string[]): { id: number; response: Promise<WorkResponse & { at: number }> } {
  const id = nextId++;
  w.client.send({ requestId: id, arguments: args });
  return { id, response: w.client.response(id).then((r) => ({ ...r, at: performance.now() })) };
}

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const has = (dir: string, suffix: string) => existsSync(dir) && readdirSync(dir).some((n) => n.endsWith(suffix));

/** A dependent compiled against `rmeta` alone, then a binary linking it with `rlib`: exit status and output of the link. */
function linkAgainst(s: Setup, rmeta: string, rlib: string): { status: number | null; out: string } {
  const work = join(s.ob, `link-${nextId++}`);
  mkdirSync(join(work, 'rlib'), { recursive: true });
  writeFileSync(join(work, 'rlib', 'libapp-app1.rlib'), readFileSync(rlib));
  writeFileSync(join(work, 'user.rs'), 'pub fn twice() -> u32 { app::answer() * 2 }\n');
  const deps = `-Ldependency=${join(s.ws.execroot, 'deps')}`;
  const user = spawnSync(RUSTC, ['user.rs', '--crate-name=user', '--crate-type=rlib', '--edition=2018', `--out-dir=${work}`, `--extern=app=${rmeta}`, deps], { cwd: work, encoding: 'utf8' });
  if (user.status !== 0) return { status: user.status, out: user.stderr };
  writeFileSync(join(work, 'main.rs'), 'fn main() { println!("{}", user::twice()); }\n');
  const bin = spawnSync(RUSTC, ['main.rs', '--crate-name=main', '--crate-type=bin', '--edition=2018', '-o', join(work, 'main'), `--extern=user=${join(work, 'libuser.rlib')}`, `-Ldependency=${join(work, 'rlib')}`, deps], { cwd: work, encoding: 'utf8' });
  if (bin.status !== 0) return { status: bin.status, out: bin.stderr };
  const run = spawnSync(join(work, 'main'), { encoding: 'utf8' });
  return { status: run.status, out: run.stdout };
}

describe.skipIf(!haveRustc)("the worker's one rustc for a crate's metadata and full requests", () => {
  it('metadata first: answered at the rmeta while rustc goes on; the full request attaches and gets the whole result', async () => {
    const s = setup();
    writeFileSync(join(s.ob, 'after'), '2');
    const m = await send(s.meta, actionArgs(s.ws, 'metadata')).response;
    expect(m.exitCode, m.output).toBe(0);
    expect(m.output).toContain('starting the shared rustc of this crate for the metadata request');
    expect(m.output).toContain('pipeline: took the rmeta out/libapp-app1.rmeta');
    expect(m.output).toContain('unused variable');
    const rmetaAtAnswer = statSync(join(s.ws.execroot, RMETA), { bigint: true });
    const f = await send(s.rustc, actionArgs(s.ws, 'full')).response;
    expect(f.exitCode, f.output).toBe(0);
    expect(f.output).toContain('pipeline: took the full compile (exit 0) from the shared rustc');
    expect(f.output.match(/unused variable/g)).toHaveLength(1);
    // --output-file of each request: its own raw lines (the full one's has the rlib's notification too).
    expect(readFileSync(join(s.ws.execroot, 'out', 'app.rmeta-output'), 'utf8')).toContain('"emit":"metadata"');
    expect(readFileSync(join(s.ws.execroot, 'out', 'app.rlib-output'), 'utf8')).toContain('"emit":"link"');
    expect(s.runs()).toHaveLength(1);
    // rustc does not touch the rmeta after it reported it: what Bazel got at the metadata answer stays.
    const rmetaAfter = statSync(join(s.ws.execroot, RMETA), { bigint: true });
    expect([rmetaAfter.ino, rmetaAfter.mtimeNs, rmetaAfter.size]).toEqual([rmetaAtAnswer.ino, rmetaAtAnswer.mtimeNs, rmetaAtAnswer.size]);
    expect(linkAgainst(s, join(s.ws.execroot, RMETA), join(s.ws.execroot, RLIB))).toEqual({ status: 0, out: '84\n' });
    // Nothing left behind: a full request took the result live, and the metadata one the rmeta.
    await until('the socket to go', () => !has(s.dir, '.wsock'));
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it('full first: the metadata request takes the rmeta of the running rustc and is answered before it ends', async () => {
    const s = setup();
    writeFileSync(join(s.ob, 'after'), '2');
    const full = send(s.rustc, actionArgs(s.ws, 'full'));
    await until('the shared rustc to listen', () => has(s.dir, '.wsock'));
    const m = await send(s.meta, actionArgs(s.ws, 'metadata')).response;
    const f = await full.response;
    expect(m.exitCode, m.output).toBe(0);
    expect(f.exitCode, f.output).toBe(0);
    expect(m.output).toContain('from the shared rustc');
    expect(f.output).toContain('starting the shared rustc of this crate for the full request');
    expect(m.at).toBeLessThan(f.at);
    expect(s.runs()).toHaveLength(1);
    expect(linkAgainst(s, join(s.ws.execroot, RMETA), join(s.ws.execroot, RLIB))).toEqual({ status: 0, out: '84\n' });
  });

  it('both requests at the same instant, in two workers: one of them starts rustc, the other attaches', async () => {
    const s = setup();
    writeFileSync(join(s.ob, 'delay'), '1');
    const m = send(s.meta, actionArgs(s.ws, 'metadata'));
    const f = send(s.rustc, actionArgs(s.ws, 'full'));
    const [mr, fr] = [await m.response, await f.response];
    expect(mr.exitCode, mr.output).toBe(0);
    expect(fr.exitCode, fr.output).toBe(0);
    expect(`${mr.output}${fr.output}`.match(/starting the shared rustc/g)).toHaveLength(1);
    expect(s.runs()).toHaveLength(1);
    expect(linkAgainst(s, join(s.ws.execroot, RMETA), join(s.ws.execroot, RLIB))).toEqual({ status: 0, out: '84\n' });
  });

  it('with the store: the metadata request alone lets rustc finish; the later full request, after Bazel deleted its outputs, gets them back; rmeta and rlib share the crate hash', async () => {
    const s = setup({ store: true });
    const m = await send(s.meta, actionArgs(s.ws, 'metadata')).response;
    expect(m.exitCode, m.output).toBe(0);
    expect(m.output).toContain('took the rmeta');
    await until('the shared rustc to end and leave its result', () => has(s.dir, '.done'));
    const rlibIno = statSync(join(s.ws.execroot, RLIB)).ino;
    // Bazel deletes an action's declared outputs before it sends the request.
    unlinkSync(join(s.ws.execroot, RLIB));
    unlinkSync(join(s.ws.execroot, DEPINFO));
    const f = await send(s.rustc, actionArgs(s.ws, 'full')).response;
    expect(f.exitCode, f.output).toBe(0);
    expect(f.output).toContain('from the shared rustc that ran before');
    expect(f.output).toContain('unused variable');
    expect(statSync(join(s.ws.execroot, RLIB)).ino).toBe(rlibIno);
    expect(existsSync(join(s.ws.execroot, DEPINFO))).toBe(true);
    expect(s.runs()).toHaveLength(1);
    // The compile carried -Cincremental (the store's): a dependent built against the rmeta links with the rlib.
    expect(readdirSync(join(s.ob, 'store')).filter((n) => !n.startsWith('.'))).not.toEqual([]);
    expect(linkAgainst(s, join(s.ws.execroot, RMETA), join(s.ws.execroot, RLIB))).toEqual({ status: 0, out: '84\n' });
    // The result and its stash are taken once.
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it('a rebuild: the outputs of the last build are read-only (as Bazel leaves them) and the full request starts rustc', async () => {
    const s = setup();
    expect((await send(s.meta, actionArgs(s.ws, 'metadata')).response).exitCode).toBe(0);
    expect((await send(s.rustc, actionArgs(s.ws, 'full')).response).exitCode).toBe(0);
    for (const rel of [RMETA, RLIB, DEPINFO]) chmodSync(join(s.ws.execroot, rel), 0o555);
    writeFileSync(join(s.ws.execroot, 'app', 'more.rs'), 'pub fn more() -> u32 { 8 }\n');
    // A source saved within a clock tick of rustc's start may have changed while rustc ran (inputs.ts): saved a little earlier here.
    await new Promise((r) => setTimeout(r, 100));
    // Bazel deletes the full action's outputs and sends it; only later the metadata action's, and sends that.
    unlinkSync(join(s.ws.execroot, RLIB));
    unlinkSync(join(s.ws.execroot, DEPINFO));
    const fr = await send(s.rustc, actionArgs(s.ws, 'full')).response;
    expect(fr.exitCode, fr.output).toBe(0);
    unlinkSync(join(s.ws.execroot, RMETA));
    const m = await send(s.meta, actionArgs(s.ws, 'metadata')).response;
    expect(m.exitCode, m.output).toBe(0);
    expect(m.output).toContain('from the shared rustc that ran before');
    expect(s.runs()).toHaveLength(2);
    expect(linkAgainst(s, join(s.ws.execroot, RMETA), join(s.ws.execroot, RLIB))).toEqual({ status: 0, out: '96\n' });
  });

  it('a source edited after the shared rustc ran: the later full request compiles itself', async () => {
    const s = setup();
    expect((await send(s.meta, actionArgs(s.ws, 'metadata')).response).exitCode).toBe(0);
    await until('the result', () => has(s.dir, '.done'));
    writeFileSync(join(s.ws.execroot, 'app', 'more.rs'), 'pub fn more() -> u32 { 8 }\n');
    const f = await send(s.rustc, actionArgs(s.ws, 'full')).response;
    expect(f.exitCode, f.output).toBe(0);
    expect(f.output).toContain('input app/more.rs is not the file the shared rustc read');
    expect(s.runs()).toHaveLength(2);
  });

  it('cancel of the metadata request detaches it; rustc goes on and serves the full request', async () => {
    const s = setup();
    writeFileSync(join(s.ob, 'delay'), '2');
    const m = send(s.meta, actionArgs(s.ws, 'metadata'));
    await until('the shared rustc to listen', () => has(s.dir, '.wsock'));
    s.meta.client.send({ requestId: m.id, cancel: true });
    const cancelled = await m.response;
    expect(cancelled.wasCancelled).toBe(true);
    const f = await send(s.rustc, actionArgs(s.ws, 'full')).response;
    expect(f.exitCode, f.output).toBe(0);
    expect(f.output).toContain('from the shared rustc');
    expect(s.runs()).toHaveLength(1);
    expect(existsSync(join(s.ws.execroot, RLIB))).toBe(true);
  });

  it('cancel of the full request with nothing else attached kills rustc', async () => {
    const s = setup({ exec: true });
    writeFileSync(join(s.ob, 'delay'), '30');
    const f = send(s.rustc, actionArgs(s.ws, 'full'));
    await until('rustc to start', () => s.runs().length === 1);
    const pid = Number(s.runs()[0]!.split(' ')[0]);
    expect(alive(pid)).toBe(true);
    s.rustc.client.send({ requestId: f.id, cancel: true });
    expect((await f.response).wasCancelled).toBe(true);
    await until('rustc to be gone', () => !alive(pid), 5_000);
    await until('the socket to go', () => !has(s.dir, '.wsock'));
    expect(readdirSync(s.dir)).toEqual([]);
  });

  it('cancel of the full request while the metadata request waits leaves rustc running for it', async () => {
    const s = setup();
    writeFileSync(join(s.ob, 'delay'), '2');
    const f = send(s.rustc, actionArgs(s.ws, 'full'));
    await until('the shared rustc to listen', () => has(s.dir, '.wsock'));
    const m = send(s.meta, actionArgs(s.ws, 'metadata'));
    // The metadata request is attached once it is waiting (its debug line is in its answer; wait for rustc's start instead).
    await until('rustc to start', () => s.runs().length === 1);
    await new Promise((r) => setTimeout(r, 300));
    s.rustc.client.send({ requestId: f.id, cancel: true });
    expect((await f.response).wasCancelled).toBe(true);
    const mr = await m.response;
    expect(mr.exitCode, mr.output).toBe(0);
    expect(mr.output).toContain('from the shared rustc');
    expect(s.runs()).toHaveLength(1);
  });

  it('a compile error before the rmeta: both requests fail with rustc\'s words, from one rustc', async () => {
    const s = setup({ source: crateSource('pub fn bad() -> u32 { "x" }\n') });
    writeFileSync(join(s.ob, 'delay'), '1');
    const m = send(s.meta, actionArgs(s.ws, 'metadata'));
    await until('the shared rustc to listen', () => has(s.dir, '.wsock'));
    const f = send(s.rustc, actionArgs(s.ws, 'full'));
    const [mr, fr] = [await m.response, await f.response];
    expect(mr.exitCode).toBe(1);
    expect(fr.exitCode).toBe(1);
    expect(mr.output).toContain('mismatched types');
    expect(fr.output).toContain('mismatched types');
    expect(mr.output).toContain('took the failed compile (exit 1)');
    expect(s.runs()).toHaveLength(1);
    expect(existsSync(join(s.ws.execroot, RMETA))).toBe(false);
  });

  it('a sandboxed request (sandbox_dir) keeps the one-shot behaviour: each compiles itself', async () => {
    const s = setup();
    const req = (w: Worker, kind: 'metadata' | 'full') => {
      const id = nextId++;
      w.client.send({ requestId: id, arguments: actionArgs(s.ws, kind), sandboxDir: '.' });
      return w.client.response(id);
    };
    expect((await req(s.meta, 'metadata')).exitCode).toBe(0);
    expect((await req(s.rustc, 'full')).exitCode).toBe(0);
    expect(s.runs()).toHaveLength(2);
    expect(has(s.dir, '.done')).toBe(false);
  });
});
