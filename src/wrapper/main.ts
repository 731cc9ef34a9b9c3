import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { SharedHooks } from '../pipeline/shared.ts';
import { afterSuccess } from './afterSuccess.ts';
import { runChild, type ChildSpec, type Sink } from './child.ts';
import { buildChildEnv } from './env.ts';
import { SeedwrapError, describe } from '../errors.ts';
import { parseFlags } from './flags.ts';
import type { Io } from '../io.ts';
import { readLineFile } from './lineFile.ts';
import { toOptions, type Options } from './options.ts';
import { prepareArgs } from './paramFile.ts';
import { VERSION } from '../version.ts';
import { runSeeding } from './seeding.ts';
import { signalExitCode } from './signals.ts';
import { bazelLayout, lstatOf, type BazelLayout } from '../bazelLayout.ts';
import { locateStore } from '../store/sandboxPaths.ts';
import { bindFds, planStableCwd, type StableCwd } from '../stableCwd.ts';
import { findIncremental } from '../store/incrementalFlag.ts';
import { parseSubsts } from './subst.ts';

/**
 * process_wrapper: `[FLAGS] -- PROGRAM [ARGS...]` → the exit code. The one core
 * behind the bin shim, each worker request and the tests; it never exits the
 * process and prints only to `io`.
 */
export async function main(argv: readonly string[], io: Io, memo = true): Promise<number> {
  const debug = io.env.RULES_RUST_PROCESS_WRAPPER_DEBUG !== undefined ? (line: string) => void io.stderr.write(`seedwrap: debug: ${line}\n`) : undefined;
  const fds: number[] = [];
  // The store's clean-up when its finish never runs (a signal before the child, a spawn or output failure).
  let discard: (() => void) | undefined;
  try {
    const parsed = parseFlags(argv);
    // Help and version go to stdout (upstream prints its help to stderr).
    if (parsed.kind === 'help' || parsed.kind === 'version') {
      (io.stdout === 'inherit' ? process.stdout : io.stdout).write(parsed.kind === 'help' ? parsed.text : `seedwrap ${VERSION}\n`);
      return 0;
    }
    const opts = toOptions(parsed.flags);
    const resolvePath = (p: string) => resolve(io.cwd, p);
    let child = prepareChild(opts, parsed.child, io, resolvePath, debug, undefined, memo);
    const warn = (line: string) => void io.stderr.write(`seedwrap: ${line}\n`);
    // The store (src/store/) is loaded only for a compile that carries -C incremental.
    const storeCode = opts.exitEarly || !child.incremental ? undefined : await import('../store/index.ts');
    // No Bazel layout (a remote executor's input root): the executor store, if the executor configured one, gives the child a stable cwd of its own.
    const executor = storeCode && !child.stable && opts.stableCwd === undefined ? storeCode.planExecutor(child.layout(), io.cwd, child.args, child.env, io.env, warn, debug) : undefined;
    if (executor) child = prepareChild(opts, parsed.child, io, resolvePath, debug, executor.stable, memo);
    const store = storeCode && child.incremental ? storeCode.prepareStore(child.args, child.incremental, { cwd: io.cwd, stable: child.stable, layout: child.layout(), env: io.env, warn, debug, signal: io.signal, location: executor?.location }) : undefined;
    if (store) child.args = store.args;
    discard = store?.discard;
    debug?.(`child argv: ${JSON.stringify(child.args)}`);

    await runSeeding(opts, resolvePath, io, debug);
    // A signal that arrived while seeding: the action is being cancelled, so
    // no child is started (nor does --exit-early report success).
    if (io.signal?.aborted) return signalExitCode(io.signal.reason);
    if (opts.exitEarly) return 0;
    if (child.args[0] === undefined) throw new SeedwrapError('USAGE', 'no program to run: give one after -- (or in an --arg-file)');
    const outputs = openOutputs(opts, io, resolvePath, fds);
    // One rustc per pipelined crate (src/pipeline/), loaded only for a rustc
    // whose JSON is read and that has a rendezvous: the store's or the user's.
    const format = opts.rustcOutputFormat;
    const pipe = format && (store?.root ?? io.env.SEEDWRAP_PIPELINE_DIR) && io.env.SEEDWRAP_PIPELINE !== 'off' ? (await import('../pipeline/index.ts')).preparePipeline({ args: child.args, env: child.env, cwd: io.cwd, rustcCwd: child.stable?.path, storeRoot: store?.root, format, quitOnRmeta: opts.rustcQuitOnRmeta, inheritedEnv: io.env, shared: io.sharedRustc, warn, debug }) : undefined;
    let runs = 0;
    // The child's argv as it is started: through the stable cwd's namespace, with the store's binds.
    const started = (argv: string[]) => {
      const [first = '', ...rest] = argv;
      const [program, args] = child.stable ? child.stable.wrap(first, rest, store?.binds) : [first, rest];
      return { program, args, extraFds: child.stable ? bindFds(store?.binds) : undefined, env: child.env, cwd: io.cwd, format, debug, keepExitCode: store ? (c: number) => c === 101 : undefined };
    };
    const run = (argv: string[]) => {
      // A retry (the store's, after exit 101 or a store failure) writes only its own stdout.
      if (runs++ > 0) outputs.restartStdout();
      const stderr = store ? store.watch(outputs.stderr) : outputs.stderr;
      return runChild({ ...started(argv), stdin: io.stdin, ...outputs, stderr, quitOnRmeta: opts.rustcQuitOnRmeta, signal: io.signal, onRustcLine: pipe?.onLine });
    };
    // The worker's shared rustc (src/pipeline/shared.ts): the full command,
    // none of this request's outputs, its own signal; the store's retries there.
    const startShared = (hooks: SharedHooks) => {
      const runShared = (argv: string[]) => {
        hooks.reset();
        const ignore: Sink = () => {};
        return runChild({ ...started(argv), stdin: 'ignore', stdout: new Writable({ write: (_c, _e, cb) => cb() }), stderr: store ? store.watch(ignore) : ignore, rawStderr: hooks.rawLine, quitOnRmeta: false, signal: hooks.signal, onRustcLine: hooks.onLine });
      };
      return runShared(child.args).then((c) => (store ? store.finish(c, runShared) : c));
    };
    let code: number;
    let meta: { args: string[]; done(): void } | undefined;
    let taken: number | undefined;
    try {
      taken = await pipe?.take(outputs, io.signal, startShared);
      // A metadata action that compiles itself works on a private copy of the crate's session (src/store/metaSeed.ts).
      if (taken === undefined && opts.rustcQuitOnRmeta) meta = store?.metaSeed?.();
      code = taken ?? (await run(meta?.args ?? child.args));
    } finally {
      pipe?.close();
      meta?.done();
    }
    // The namespace's flags came from another process's memo (namespaceMemo.ts):
    // a failed run may be unshare refusing them. Probed again; if no namespace
    // works now, the run is redone from the start without the memo, as if
    // this process had probed first (one line, then a compile in place).
    const why = code !== 0 && !io.signal?.aborted ? child.stable?.recheck?.() : undefined;
    if (why !== undefined) {
      io.stderr.write(`seedwrap: the remembered mount namespace check was wrong (${why}); running the action again\n`);
      return await main(argv, io, false);
    }
    if (store && !(pipe?.shared && taken !== undefined)) {
      discard = undefined;
      code = await store.finish(code, run);
      // A signal during the store's upkeep (after the child ended): the action is being cancelled.
      if (io.signal?.aborted) return signalExitCode(io.signal.reason);
    }
    // No after-success steps for a cancelled action (runChild reports it non-zero).
    if (code === 0 && !io.signal?.aborted) afterSuccess(opts, resolvePath);
    return code;
  } catch (err) {
    if (err instanceof SeedwrapError) {
      io.stderr.write(`seedwrap: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`seedwrap: internal error (please report): ${err instanceof Error ? err.stack : String(err)}\n`);
    return 1;
  } finally {
    discard?.();
    for (const fd of fds) closeSync(fd);
  }
}

/** The child's argv and env (spec §3–5), where it will run, and its `-C incremental`. */
function prepareChild(opts: Options, cmdline: readonly string[], io: Io, resolvePath: (p: string) => string, debug?: (line: string) => void, given?: StableCwd, memo = true) {
  // Where the action stands in Bazel's layout: a few lstat calls, made only
  // for an action that needs it (a stable cwd or -C incremental), then kept.
  let known: BazelLayout | undefined;
  const layout = () => (known ??= bazelLayout(io.cwd));
  // Where the child runs decides `${pwd}` and OUT_DIR (no child with --exit-early).
  let stable = given ?? (opts.stableCwd && !opts.exitEarly ? stableCwd(io, layout(), '--stable-cwd', debug) : undefined);
  let args = childArgs(opts, cmdline, resolvePath, parseSubsts(opts.substs, io.cwd, opts.outDir, stable?.path ?? io.cwd));
  let incremental = findIncremental(args);
  // rustc with -C incremental inside a sandbox runs from the stable path unless
  // --stable-cwd false: rustc ignores state made under another cwd (src/store/).
  // The arguments are expanded again only then: `${pwd}` names the stable path.
  if (opts.stableCwd === undefined && !opts.exitEarly && incremental && (layout().kind === 'sandbox' || layout().kind === 'worker')) {
    // The store's root keeps the namespace probe's memo: its real path is known
    // from the arguments as rustc will see them from the stable path.
    let seen: { path: string; args: string[] } | undefined;
    const memoDir = (path: string) => {
      seen = { path, args: childArgs(opts, cmdline, resolvePath, parseSubsts(opts.substs, io.cwd, opts.outDir, path)) };
      return storeRoot(seen.args, io.cwd, layout(), path);
    };
    stable = stableCwd(io, layout(), 'stable cwd for -C incremental', debug, memo ? memoDir : undefined);
    if (stable) {
      args = seen?.path === stable.path ? seen.args : childArgs(opts, cmdline, resolvePath, parseSubsts(opts.substs, io.cwd, opts.outDir, stable.path));
      incremental = findIncremental(args);
    }
  }
  const pwd = stable?.path ?? io.cwd;
  const env = buildChildEnv({
    inherited: io.env,
    envFiles: opts.envFiles,
    stableStatusFile: opts.stableStatusFile,
    volatileStatusFile: opts.volatileStatusFile,
    outDir: opts.outDir,
    cwd: pwd,
    mappings: parseSubsts(opts.substs, io.cwd, opts.outDir, pwd),
    resolvePath,
  });
  return { args, env, stable, incremental, layout };
}

/** The child's argv: the command line, `--arg-file`s, substitutions and `@paramfile`s. */
function childArgs(opts: Options, cmdline: readonly string[], resolvePath: (p: string) => string, mappings: ReturnType<typeof parseSubsts>): string[] {
  const raw = [...cmdline];
  for (const file of opts.argFiles) raw.push(...readLineFile(resolvePath(file), `--arg-file ${file}`));
  const { args, allowsFeatures } = prepareArgs(raw, mappings, resolvePath);
  if (opts.requireExplicitUnstableFeatures && !allowsFeatures) args.push('-Zallow-features=');
  return args;
}

/**
 * `--stdout-file` is created (truncated) before the spawn; `--stderr-file` and
 * `--output-file` once the program has started (upstream's order: a program
 * that cannot be started leaves neither file behind).
 */
function openOutputs(opts: Options, io: Io, resolvePath: (p: string) => string, fds: number[]): Pick<ChildSpec, 'stdout' | 'stderr' | 'rawStderr' | 'onSpawn'> & { restartStdout(): void } {
  const open = (path: string, flag: string) => {
    try {
      const fd = openSync(resolvePath(path), 'w');
      fds.push(fd);
      return fd;
    } catch (err) {
      throw new SeedwrapError('OUTPUT', `${flag}: cannot open ${path}: ${describe(err)}`, { cause: err });
    }
  };
  const stderr = opts.stderrFile !== undefined ? afterSpawnSink(opts.stderrFile, '--stderr-file', open) : undefined;
  const raw = opts.outputFile !== undefined ? afterSpawnSink(opts.outputFile, '--output-file', open) : undefined;
  const stdoutFile = opts.stdoutFile;
  return {
    stdout: stdoutFile !== undefined ? open(stdoutFile, '--stdout-file') : io.stdout,
    // Reopened with truncation: Node has no lseek, and a child writing to the
    // old descriptor would continue at the first run's offset.
    restartStdout() {
      if (stdoutFile !== undefined) this.stdout = open(stdoutFile, '--stdout-file');
    },
    stderr: stderr?.sink ?? ((b) => void io.stderr.write(b)),
    rawStderr: raw?.sink,
    onSpawn: () => {
      stderr?.open();
      raw?.open();
    },
  };
}

/** The real, existing root of the store `args` name from the stable path `path`, where the namespace memo may live. */
function storeRoot(args: readonly string[], cwd: string, layout: BazelLayout, path: string): string | undefined {
  const flag = findIncremental(args);
  if (!flag) return undefined;
  const loc = locateStore(flag.dir, cwd, layout, { path });
  return loc.kind === 'store' && lstatOf(loc.real)?.isDirectory() ? loc.real : undefined;
}

function stableCwd(io: Io, layout: BazelLayout, what: string, debug?: (line: string) => void, memoDir?: (path: string) => string | undefined): StableCwd | undefined {
  const plan = planStableCwd(layout, memoDir);
  if (plan.kind === 'unavailable') {
    io.stderr.write(`seedwrap: ${what}: ${plan.reason}; rustc runs in ${io.cwd} and cannot reuse incremental state made in another sandbox\n`);
    return undefined;
  }
  if (plan.kind === 'stable') debug?.(`stable cwd ${plan.stable.path} for ${io.cwd}`);
  return plan.kind === 'stable' ? plan.stable : undefined;
}

function afterSpawnSink(path: string, flag: string, open: (path: string, flag: string) => number): { sink: Sink; open: () => void } {
  let sink: Sink = () => {};
  return { sink: (bytes) => sink(bytes), open: () => void (sink = fileSink(open(path, flag), `${flag} ${path}`)) };
}

/** Throws a SeedwrapError naming the flag (ENOSPC, EIO, EFBIG); runChild then ends the child. */
function fileSink(fd: number, what: string): Sink {
  return (bytes) => {
    let off = 0;
    try {
      while (off < bytes.length) off += writeSync(fd, bytes, off);
    } catch (err) {
      throw new SeedwrapError('OUTPUT', `${what}: cannot write: ${describe(err)}; the child was stopped`, { cause: err });
    }
  };
}

