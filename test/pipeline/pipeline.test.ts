import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/wrapper/main.ts';
import { tempDir } from '../helpers/tmp.ts';
import { canNamespace } from '../store/helpers.ts';
import { action, actionArgs, crateSource, haveRustc, RMETA, RUSTC, sandbox, socketAppears, workspace, type Workspace } from './helpers.ts';

const DEBUG = { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' };

/** A workspace whose rendezvous is an explicit SEEDWRAP_PIPELINE_DIR (a plain build, no -C incremental). */
function plainWorkspace(source?: string): { ws: Workspace; dir: string; env: Record<string, string> } {
  const ob = tempDir('seedwrap-pipe-');
  const ws = workspace(ob, source);
  const dir = join(ob, 'pipe');
  mkdirSync(dir, { mode: 0o700 });
  return { ws, dir, env: { SEEDWRAP_PIPELINE_DIR: dir } };
}

const read = (sb: string, rel: string) => readFileSync(join(sb, rel));
const text = (b: Uint8Array) => Buffer.from(b).toString();
const sockets = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.sock')) : []);

/** Resolves once the running action has printed `needle` on stderr (its debug lines). */
function printed(sub: ReturnType<typeof action>, needle: string): Promise<void> {
  return new Promise((res, rej) => {
    let seen = '';
    sub.stderr!.on('data', (b: Buffer) => {
      seen += b.toString();
      if (seen.includes(needle)) res();
    });
    void sub.then(() => rej(new Error(`ended without printing ${needle}: ${seen}`)));
  });
}

/** Ends an action started by this test and every process in its group (its rustc, its sleep). */
function killGroup(sub: ReturnType<typeof action>, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-sub.pid!, signal);
  } catch {
    // already gone
  }
}

describe.runIf(haveRustc)('one rustc per crate: the metadata action takes its rmeta from the running full compile', () => {
  it('plain: the same rmeta bytes, diagnostics, --output-file and exit 0 as its own compile, and no second rustc', async () => {
    const { ws, dir, env } = plainWorkspace();
    const own = sandbox(ws, 1);
    const control = await action(own, actionArgs(ws, 'metadata'), env);
    expect(control.exitCode, text(control.stderr)).toBe(0);
    expect(text(control.stderr)).toContain('unused variable');

    const fullDir = sandbox(ws, 2, { delay: 2 });
    const full = action(fullDir, actionArgs(ws, 'full'), env);
    await socketAppears(dir);
    const metaDir = sandbox(ws, 3);
    const meta = await action(metaDir, actionArgs(ws, 'metadata'), env);
    const f = await full;

    expect(meta.exitCode, text(meta.stderr)).toBe(0);
    expect(read(metaDir, RMETA).equals(read(own, RMETA))).toBe(true);
    expect(Buffer.from(meta.stderr).equals(Buffer.from(control.stderr))).toBe(true);
    expect(read(metaDir, 'out/app.rmeta-output').equals(read(own, 'out/app.rmeta-output'))).toBe(true);
    // rustc ran for the control and the full compile, never in the metadata action's sandbox.
    expect(ws.rustcRuns()).toEqual([own, fullDir]);
    // The full compile itself is unchanged, and its rendezvous is gone with it.
    expect(f.exitCode, text(f.stderr)).toBe(0);
    // (It goes on past the rmeta: its stderr also has rustc's closing summary.)
    expect(text(f.stderr)).toBe(`${text(control.stderr)}warning: 1 warning emitted\n\n`);
    expect(existsSync(join(fullDir, 'out', 'libapp-app1.rlib'))).toBe(true);
    expect(sockets(dir)).toEqual([]);
  });

  it("replays the diagnostics through its own --rustc-output-format (json here, the full compile's rendered) and --stderr-file", async () => {
    const { ws, dir, env } = plainWorkspace();
    const asJson = (args: string[]) => args.map((a) => (a === 'rendered' ? 'json' : a)).flatMap((a) => (a === '--output-file' ? ['--stderr-file', 'out/app.stderr', a] : [a]));
    const own = sandbox(ws, 1);
    const control = await action(own, asJson(actionArgs(ws, 'metadata')), env);
    expect(control.exitCode, text(control.stderr)).toBe(0);
    expect(text(control.stderr)).toBe('');
    expect(read(own, 'out/app.stderr').toString()).toMatch(/^\{"\$message_type":"diagnostic","message":"unused variable/);
    const full = action(sandbox(ws, 2, { delay: 2 }), actionArgs(ws, 'full'), env);
    await socketAppears(dir);
    const metaDir = sandbox(ws, 3);
    const meta = await action(metaDir, asJson(actionArgs(ws, 'metadata')), env);
    expect((await full).exitCode).toBe(0);
    expect(meta.exitCode, text(meta.stderr)).toBe(0);
    expect(text(meta.stderr)).toBe('');
    expect(read(metaDir, 'out/app.stderr').equals(read(own, 'out/app.stderr'))).toBe(true);
    expect(read(metaDir, 'out/app.rmeta-output').equals(read(own, 'out/app.rmeta-output'))).toBe(true);
    expect(read(metaDir, RMETA).equals(read(own, RMETA))).toBe(true);
    expect(ws.rustcRuns()).not.toContain(metaDir);
  });

  it("after the full compile ended (Bazel 4.2.3's usual order, and --jobs=1) it takes the rmeta that compile left, once; then it compiles itself at once", async () => {
    const { ws, dir, env } = plainWorkspace();
    const own = sandbox(ws, 1);
    const control = await action(own, actionArgs(ws, 'metadata'), env);
    expect(control.exitCode).toBe(0);
    const fullDir = sandbox(ws, 2);
    expect((await action(fullDir, actionArgs(ws, 'full'), env)).exitCode).toBe(0);
    expect(sockets(dir)).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.msg'))).toHaveLength(1);
    const metaDir = sandbox(ws, 3);
    const meta = await action(metaDir, actionArgs(ws, 'metadata'), { ...env, ...DEBUG });
    expect(meta.exitCode, text(meta.stderr)).toBe(0);
    expect(text(meta.stderr)).toContain('pipeline: took the rmeta out/libapp-app1.rmeta');
    expect(text(meta.stderr)).toContain('from the full compile that ran before');
    expect(read(metaDir, RMETA).equals(read(own, RMETA))).toBe(true);
    expect(read(metaDir, 'out/app.rmeta-output').equals(read(own, 'out/app.rmeta-output'))).toBe(true);
    expect(ws.rustcRuns()).toEqual([own, fullDir]);
    // Taken once: the next one finds neither a producer nor a message.
    expect(readdirSync(dir)).toEqual([]);
    const again = sandbox(ws, 4);
    const next = await action(again, actionArgs(ws, 'metadata'), { ...env, ...DEBUG });
    expect(next.exitCode).toBe(0);
    expect(text(next.stderr)).toContain('pipeline: compiling itself: no full compile of this crate is running');
    expect(ws.rustcRuns()).toEqual([own, fullDir, again]);
  });

  it('a message left by a full compile whose input has changed since is not taken', async () => {
    const { ws, dir, env } = plainWorkspace();
    expect((await action(sandbox(ws, 1), actionArgs(ws, 'full'), env)).exitCode).toBe(0);
    // An edit after that build, of a module the dep-info names (the command line stays the same).
    writeFileSync(join(ws.execroot, 'app', 'more.rs'), 'pub fn more() -> u32 { 8 }\n');
    const metaDir = sandbox(ws, 2);
    const meta = await action(metaDir, actionArgs(ws, 'metadata'), { ...env, ...DEBUG });
    expect(meta.exitCode, text(meta.stderr)).toBe(0);
    expect(text(meta.stderr)).toContain('pipeline: compiling itself: input app/more.rs is not the file the full compile read');
    expect(ws.rustcRuns()).toContain(metaDir);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a producer killed before its rmeta: the waiting action compiles itself; its stale socket is removed and later replaced', async () => {
    const { ws, dir, env } = plainWorkspace();
    const full = action(sandbox(ws, 1, { delay: 30 }), actionArgs(ws, 'full'), env);
    await socketAppears(dir);
    const metaDir = sandbox(ws, 2);
    const meta = action(metaDir, actionArgs(ws, 'metadata'), { ...env, ...DEBUG });
    await printed(meta, 'waiting for the running full compile');
    killGroup(full);
    await full;
    const m = await meta;
    expect(m.exitCode, text(m.stderr)).toBe(0);
    expect(text(m.stderr)).toContain('pipeline: compiling itself: the producer ended before it sent the rmeta');
    expect(ws.rustcRuns().at(-1)).toBe(metaDir);
    expect(existsSync(join(metaDir, RMETA))).toBe(true);

    // SIGKILL left the socket file; the next metadata action finds it dead (ECONNREFUSED) and removes it.
    const [stale] = sockets(dir);
    expect(stale).toBeDefined();
    const next = await action(sandbox(ws, 3), actionArgs(ws, 'metadata'), { ...env, ...DEBUG });
    expect(next.exitCode).toBe(0);
    expect(text(next.stderr)).toMatch(/compiling itself: .*ECONNREFUSED/);
    expect(sockets(dir)).toEqual([]);

    // A stale socket in the way of a new producer is replaced: the next pair shares one rustc.
    const staleAgain = action(sandbox(ws, 4, { delay: 30 }), actionArgs(ws, 'full'), env);
    await socketAppears(dir);
    killGroup(staleAgain);
    await staleAgain;
    expect(sockets(dir)).toEqual([stale]);
    const before = ws.rustcRuns().length;
    const full2 = action(sandbox(ws, 5, { delay: 2 }), actionArgs(ws, 'full'), env);
    await connectable(join(dir, stale!));
    const meta2 = await action(sandbox(ws, 6), actionArgs(ws, 'metadata'), { ...env, ...DEBUG });
    expect((await full2).exitCode).toBe(0);
    expect(meta2.exitCode, text(meta2.stderr)).toBe(0);
    expect(text(meta2.stderr)).toContain('pipeline: took the rmeta');
    expect(ws.rustcRuns().length).toBe(before + 1);
  });

  it('SIGTERM ends a waiting metadata action as it ends a running one (128+15), and it starts no rustc', async () => {
    const { ws, dir, env } = plainWorkspace();
    const full = action(sandbox(ws, 1, { delay: 30 }), actionArgs(ws, 'full'), env);
    try {
      await socketAppears(dir);
      const metaDir = sandbox(ws, 2);
      const meta = action(metaDir, actionArgs(ws, 'metadata'), { ...env, ...DEBUG });
      await printed(meta, 'waiting for the running full compile');
      meta.kill('SIGTERM');
      const m = await meta;
      expect(m.exitCode).toBe(143);
      expect(ws.rustcRuns()).not.toContain(metaDir);
      expect(existsSync(join(metaDir, RMETA))).toBe(false);
    } finally {
      killGroup(full);
      await full;
    }
  });

  it('in one process, as a multiplex worker serves both requests: the metadata request takes the rmeta from the full one', async () => {
    const { ws, dir, env } = plainWorkspace();
    const own = sandbox(ws, 1);
    expect((await action(own, actionArgs(ws, 'metadata'), env)).exitCode).toBe(0);
    const collect = () => {
      const chunks: Buffer[] = [];
      return { chunks, stream: new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(Buffer.from(c)), cb()) }) };
    };
    const request = (cwd: string, args: string[]) => {
      const err = collect();
      const code = main(args, { cwd, env: { PATH: process.env.PATH, HOME: homedir(), ...env, ...DEBUG }, stdout: collect().stream, stderr: err.stream, stdin: 'ignore' });
      return { code, err: () => Buffer.concat(err.chunks).toString() };
    };
    const fullDir = sandbox(ws, 2, { delay: 2 });
    const full = request(fullDir, actionArgs(ws, 'full'));
    await socketAppears(dir);
    const metaDir = sandbox(ws, 3);
    const meta = request(metaDir, actionArgs(ws, 'metadata'));
    expect(await meta.code).toBe(0);
    expect(await full.code).toBe(0);
    expect(meta.err()).toContain('pipeline: took the rmeta out/libapp-app1.rmeta');
    expect(meta.err()).toContain('from the running full compile');
    expect(read(metaDir, RMETA).equals(read(own, RMETA))).toBe(true);
    expect(ws.rustcRuns()).toEqual([own, fullDir]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("the worker's cancel ends a waiting request with exit 1", async () => {
    const { ws, dir, env } = plainWorkspace();
    const full = action(sandbox(ws, 1, { delay: 30 }), actionArgs(ws, 'full'), env);
    try {
      await socketAppears(dir);
      const metaDir = sandbox(ws, 2);
      const controller = new AbortController();
      let err = '';
      const stderr = new Writable({
        write(chunk: Buffer, _enc, cb) {
          err += chunk.toString();
          if (err.includes('waiting for the running full compile')) controller.abort();
          cb();
        },
      });
      const code = await main(actionArgs(ws, 'metadata'), { cwd: metaDir, env: { PATH: process.env.PATH, HOME: homedir(), ...env, ...DEBUG }, stdout: new Writable({ write: (_c, _e, cb) => cb() }), stderr, stdin: 'ignore', signal: controller.signal });
      expect(err).toContain('waiting for the running full compile');
      expect(code).toBe(1);
      expect(ws.rustcRuns()).not.toContain(metaDir);
    } finally {
      killGroup(full);
      await full;
    }
  });

  it('an input that is another file than the full compile read (same command line): compiles itself', async () => {
    const { ws, dir, env } = plainWorkspace();
    copyFileSync(join(ws.execroot, 'app', 'more.rs'), join(ws.ob, 'more-copy.rs'));
    const full = action(sandbox(ws, 1, { delay: 2 }), actionArgs(ws, 'full'), env);
    await socketAppears(dir);
    const metaDir = sandbox(ws, 2, { link: (rel) => (rel === 'app/more.rs' ? join(ws.ob, 'more-copy.rs') : join(ws.execroot, rel)) });
    const meta = await action(metaDir, actionArgs(ws, 'metadata'), { ...env, ...DEBUG });
    expect((await full).exitCode).toBe(0);
    expect(meta.exitCode, text(meta.stderr)).toBe(0);
    expect(text(meta.stderr)).toContain('pipeline: compiling itself: input app/more.rs is not the file the full compile read');
    expect(ws.rustcRuns()).toContain(metaDir);
  });

  it('a compile error before the rmeta: the metadata action compiles itself and fails exactly as alone', async () => {
    const { ws, dir, env } = plainWorkspace(crateSource('pub fn broken() -> u32 { "not a number" }\n'));
    const own = sandbox(ws, 1);
    const control = await action(own, actionArgs(ws, 'metadata'), env);
    expect(control.exitCode).toBe(1);
    expect(text(control.stderr)).toContain('mismatched types');
    const full = action(sandbox(ws, 2, { delay: 2 }), actionArgs(ws, 'full'), env);
    await socketAppears(dir);
    const metaDir = sandbox(ws, 3);
    const meta = await action(metaDir, actionArgs(ws, 'metadata'), env);
    expect((await full).exitCode).toBe(1);
    expect(meta.exitCode).toBe(1);
    expect(text(meta.stderr)).toBe(text(control.stderr));
    expect(read(metaDir, 'out/app.rmeta-output').equals(read(own, 'out/app.rmeta-output'))).toBe(true);
    expect(ws.rustcRuns()).toContain(metaDir);
  });

  it('a symlink planted at the rmeta path is replaced, never followed', async () => {
    const { ws, dir, env } = plainWorkspace();
    const victim = join(ws.ob, 'victim');
    writeFileSync(victim, 'untouched');
    const full = action(sandbox(ws, 1, { delay: 2 }), actionArgs(ws, 'full'), env);
    await socketAppears(dir);
    const metaDir = sandbox(ws, 2);
    symlinkSync(victim, join(metaDir, RMETA));
    const meta = await action(metaDir, actionArgs(ws, 'metadata'), { ...env, ...DEBUG });
    expect((await full).exitCode).toBe(0);
    expect(meta.exitCode, text(meta.stderr)).toBe(0);
    expect(text(meta.stderr)).toContain('pipeline: took the rmeta');
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(lstatSync(join(metaDir, RMETA)).isFile()).toBe(true);
    expect(read(metaDir, RMETA).equals(read(join(ws.ob, 'sandbox', 'linux-sandbox', '1', 'execroot', 'ws'), RMETA))).toBe(true);
    expect(readdirSync(join(metaDir, 'out')).filter((n) => n.includes('.seedwrap-'))).toEqual([]);
    // Taken live: nothing is left behind for a later one.
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a SEEDWRAP_PIPELINE_DIR that others can write is refused with one line; the action compiles itself', async () => {
    const { ws, dir, env } = plainWorkspace();
    chmodSync(dir, 0o777);
    const metaDir = sandbox(ws, 1);
    const meta = await action(metaDir, actionArgs(ws, 'metadata'), env);
    expect(meta.exitCode).toBe(0);
    expect(text(meta.stderr)).toContain(`seedwrap: pipelining: ${dir} is writable by others (mode 777); the metadata and full compiles each run rustc\n`);
    expect(ws.rustcRuns()).toEqual([metaDir]);
    expect(sockets(dir)).toEqual([]);
  });
});

describe.runIf(haveRustc && canNamespace)('one rustc per crate with the store (-C incremental)', () => {
  it('the taken rmeta has the crate hash of the full compile: a dependent built against it links with the rlib and runs; a plain rmeta is refused', async () => {
    const ob = tempDir('seedwrap-pipe-');
    const ws = workspace(ob);
    mkdirSync(join(ob, 'rustc-incremental'));
    const incremental = ['-Cincremental=${output_base}/rustc-incremental'];
    const fullDir = sandbox(ws, 1, { delay: 2 });
    const full = action(fullDir, actionArgs(ws, 'full', incremental), DEBUG);
    await socketAppears(join(ob, 'rustc-incremental', '.seedwrap-pipeline'));
    const metaDir = sandbox(ws, 2);
    const meta = await action(metaDir, actionArgs(ws, 'metadata', incremental), DEBUG);
    const f = await full;
    expect(f.exitCode, text(f.stderr)).toBe(0);
    expect(meta.exitCode, text(meta.stderr)).toBe(0);
    expect(text(meta.stderr)).toContain('pipeline: took the rmeta');
    expect(text(meta.stderr)).toContain('unused variable');
    // One rustc for the pair (both run at the stable cwd, so the log shows one line).
    expect(ws.rustcRuns()).toHaveLength(1);

    // user is compiled against the taken rmeta only, as a pipelined dependent is; main links it with the full compile's rlib.
    const work = join(ob, 'link');
    mkdirSync(join(work, 'user'), { recursive: true });
    mkdirSync(join(work, 'rlib'));
    copyFileSync(join(fullDir, 'out', 'libapp-app1.rlib'), join(work, 'rlib', 'libapp-app1.rlib'));
    writeFileSync(join(work, 'user.rs'), 'pub fn twice() -> u32 { app::answer() * 2 }\n');
    const user = (rmeta: string, out: string) => spawnSync(RUSTC, ['user.rs', '--crate-name=user', '--crate-type=rlib', '--edition=2018', `--out-dir=${out}`, `--extern=app=${rmeta}`, `-Ldependency=${join(ws.execroot, 'deps')}`], { cwd: work, encoding: 'utf8' });
    const built = user(join(metaDir, RMETA), 'user');
    expect(built.status, built.stderr).toBe(0);
    writeFileSync(join(work, 'main.rs'), 'fn main() { println!("{}", user::twice()); }\n');
    const link = (userDir: string) => spawnSync(RUSTC, ['main.rs', '--crate-name=main', '--crate-type=bin', '--edition=2018', '-o', join(work, 'main'), `--extern=user=${join(userDir, 'libuser.rlib')}`, `-Ldependency=${join(work, 'rlib')}`, `-Ldependency=${join(ws.execroot, 'deps')}`], { cwd: work, encoding: 'utf8' });
    const linked = link(join(work, 'user'));
    expect(linked.status, linked.stderr).toBe(0);
    expect(spawnSync(join(work, 'main'), { encoding: 'utf8' }).stdout).toBe('84\n');

    // The control: an rmeta made without -C incremental has another crate hash, and the link is refused.
    const plainDir = sandbox(ws, 3);
    expect((await action(plainDir, actionArgs(ws, 'metadata'))).exitCode).toBe(0);
    mkdirSync(join(work, 'user-plain'));
    expect(user(join(plainDir, RMETA), 'user-plain').status).toBe(0);
    const refused = link(join(work, 'user-plain'));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/E0460|found possibly newer version of crate `app`/);
    rmSync(join(work, 'main'), { force: true });
  });
});

/** Resolves once a producer accepts on `path` (a stale file in its place refuses). */
async function connectable(path: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(path);
      s.on('connect', () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} never accepted`);
}
