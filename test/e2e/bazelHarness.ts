// Drives a real Bazel 4.2.3 on a private copy of examples/bazel: one output
// root and one server per workspace, builds timed from the client's view, and
// what each build executed read back from its execution log.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonFrameSplitter } from '../../src/worker/json-frames.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const EXAMPLE = join(REPO, 'examples/bazel');
export const RUSTC = '/root/.cargo/bin/rustc';
const WRAPPER_IN_WORKSPACE = 'tools/seedwrap/seedwrap.cjs';

/** One spawn from Bazel's execution log. */
export interface Spawn {
  mnemonic: string;
  runner: string;
  remoteCacheHit: boolean;
  exitCode: number;
  progressMessage: string;
}

export interface BuildResult {
  code: number;
  output: string;
  ms: number;
  spawns: Spawn[];
  /** Wall time of each action, by progress message, from Bazel's --profile. */
  actionMs: Map<string, number>;
}

/**
 * Bazel 4.2.3 writes the JSON execution log as objects back to back (no
 * array, no separator), the same shape as its JSON worker requests: the
 * worker's splitter cuts it into objects.
 */
export function parseExecutionLog(text: string): Spawn[] {
  const frames: Buffer[] = [];
  new JsonFrameSplitter(Number.MAX_SAFE_INTEGER).push(Buffer.from(text), frames);
  return frames.map((frame) => {
    const o = JSON.parse(frame.toString('utf8')) as Partial<Spawn>;
    return {
      mnemonic: o.mnemonic ?? '',
      runner: o.runner ?? '',
      remoteCacheHit: o.remoteCacheHit === true,
      exitCode: o.exitCode ?? 0,
      progressMessage: o.progressMessage ?? '',
    };
  });
}

interface TraceEvent {
  ph?: string;
  cat?: string;
  name?: string;
  dur?: number;
}

/** Action durations from a --profile JSON trace ("action processing" events, in µs). */
export function parseProfile(text: string): Map<string, number> {
  const parsed = JSON.parse(text) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const ms = new Map<string, number>();
  for (const e of events) {
    if (e.ph === 'X' && e.cat === 'action processing' && e.name && e.dur !== undefined) {
      ms.set(e.name, (ms.get(e.name) ?? 0) + e.dur / 1000);
    }
  }
  return ms;
}

/**
 * The npm package of `wrapper` (a snapshot of dist/seedwrap.cjs, or
 * SEEDWRAP_E2E_WRAPPER), packed by `npm pack` from a staging copy of the
 * package's files, so dist/ may change meanwhile. Returns the tarball's path.
 */
export function packWrapper(wrapper: string, into: string): string {
  const stage = join(into, 'stage');
  mkdirSync(join(stage, 'dist'), { recursive: true });
  for (const f of ['package.json', 'README.md', 'LICENSE']) copyFileSync(join(REPO, f), join(stage, f));
  copyFileSync(wrapper, join(stage, 'dist', 'seedwrap.cjs'));
  chmodSync(join(stage, 'dist', 'seedwrap.cjs'), 0o755);
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into], { cwd: stage, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack failed:\n${r.stderr}`);
  const [packed] = JSON.parse(r.stdout) as { filename: string }[];
  if (!packed) throw new Error(`npm pack printed no file: ${r.stdout}`);
  rmSync(stage, { recursive: true, force: true });
  return join(into, packed.filename);
}

/**
 * Copies the example with its crate-source symlinks resolved, and has it
 * fetch the wrapper as a user's WORKSPACE would (docs/distribution.md): the
 * npm tarball by URL and sha256 through http_archive, its bundle in a
 * filegroup of the BUILD file given there, and //tools/seedwrap an alias of
 * it. The URL is file://, so the example's offline
 * --experimental_repository_disable_download (which refuses file:// too) is
 * turned off in the copy: nothing else is downloaded.
 */
export function copyWorkspace(tarball: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'seedwrap-bazel-ws-'));
  cpSync(EXAMPLE, dir, {
    recursive: true,
    dereference: true,
    filter: (src) => !src.endsWith(WRAPPER_IN_WORKSPACE),
  });
  const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  appendFileSync(join(dir, 'WORKSPACE'), `
load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")

http_archive(
    name = "seedwrap",
    urls = [${JSON.stringify(`file://${tarball}`)}],
    sha256 = "${sha256}",
    strip_prefix = "package",
    build_file_content = 'filegroup(name = "seedwrap", srcs = ["dist/seedwrap.cjs"], visibility = ["//visibility:public"])\\n',
)
`);
  writeFileSync(join(dir, 'tools/seedwrap/BUILD.bazel'), 'alias(\n    name = "seedwrap",\n    actual = "@seedwrap//:seedwrap",\n    visibility = ["//visibility:public"],\n)\n');
  appendFileSync(join(dir, '.bazelrc'), '# test/e2e/bazelHarness.ts: the wrapper comes from a file:// URL.\ncommon --noexperimental_repository_disable_download\n');
  return dir;
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? 1, output: Buffer.concat(chunks).toString('utf8') }));
  });
}

export class BazelWorkspace {
  readonly dir: string;
  readonly outputUserRoot: string;
  private logCount = 0;

  /** `wrapper`: the bundle (or single executable) to pack and fetch; the tarball lives in the output root. */
  constructor(wrapper: string) {
    this.outputUserRoot = mkdtempSync(join(tmpdir(), 'seedwrap-bazel-root-'));
    this.dir = copyWorkspace(packWrapper(wrapper, join(this.outputUserRoot, 'package')));
  }

  private startup(): string[] {
    // --max_idle_secs: a crashed test must not leave a server behind for long.
    return [`--output_user_root=${this.outputUserRoot}`, '--max_idle_secs=300'];
  }

  async build(flags: string[], target = '//app'): Promise<BuildResult> {
    const n = ++this.logCount;
    const log = join(this.outputUserRoot, `exec-${n}.json`);
    const profile = join(this.outputUserRoot, `profile-${n}.json`);
    const args = [
      ...this.startup(),
      'build',
      target,
      '--color=no',
      '--curses=no',
      `--execution_log_json_file=${log}`,
      `--profile=${profile}`,
      ...flags,
    ];
    const t0 = performance.now();
    const { code, output } = await run('bazel', args, this.dir);
    const ms = performance.now() - t0;
    const spawns = existsSync(log) ? parseExecutionLog(readFileSync(log, 'utf8')) : [];
    const actionMs = existsSync(profile) ? parseProfile(readFileSync(profile, 'utf8')) : new Map<string, number>();
    return { code, output, ms, spawns, actionMs };
  }

  async bazel(command: string, ...args: string[]): Promise<{ code: number; output: string }> {
    return run('bazel', [...this.startup(), command, ...args], this.dir);
  }

  /** The server's output base (starts the server if needed). */
  async outputBase(): Promise<string> {
    const r = await this.bazel('info', 'output_base');
    if (r.code !== 0) throw new Error(`bazel info output_base failed:\n${r.output}`);
    // stdout and stderr come mixed: the output base is the line under our root.
    const line = r.output.split('\n').find((l) => l.startsWith(this.outputUserRoot));
    if (!line) throw new Error(`no output base in:\n${r.output}`);
    return line.trim();
  }

  /** Output path of a file under bazel-bin, read through the convenience symlink. */
  bin(path: string): string {
    return join(this.dir, 'bazel-bin', path);
  }

  async dispose(): Promise<void> {
    await this.bazel('shutdown');
    if (process.env.SEEDWRAP_E2E_KEEP) {
      console.log(`kept ${this.dir} and ${this.outputUserRoot}`);
      return;
    }
    // Bazel leaves read-only directories behind; make them deletable first.
    await run('chmod', ['-R', 'u+w', this.outputUserRoot], this.dir);
    rmSync(this.outputUserRoot, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const executed = (r: BuildResult, mnemonic: string): Spawn[] =>
  r.spawns.filter((s) => s.mnemonic === mnemonic && !s.remoteCacheHit);

export const cacheHits = (r: BuildResult, mnemonic: string): Spawn[] =>
  r.spawns.filter((s) => s.mnemonic === mnemonic && s.remoteCacheHit);

/** The crate a spawn compiled, from its progress message ("Compiling //x:y (Rustc)"). */
export const crateOf = (s: Spawn): string => /(?:Compiling|Seeding \w+) (\S+)/.exec(s.progressMessage)?.[1] ?? s.progressMessage;
