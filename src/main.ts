import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterSuccess } from './afterSuccess.ts';
import { runChild, type ChildSpec, type Sink } from './child.ts';
import { buildChildEnv } from './env.ts';
import { SeedwrapError, describe } from './errors.ts';
import { parseFlags } from './flags.ts';
import type { Io } from './io.ts';
import { readLineFile } from './lineFile.ts';
import { toOptions, type Options } from './options.ts';
import { prepareArgs } from './paramFile.ts';
import { VERSION } from './version.ts';
import { runSeeding } from './seeding.ts';
import { signalExitCode } from './signals.ts';
import { planStableCwd, type StableCwd } from './stableCwd.ts';
import { parseSubsts } from './subst.ts';

/**
 * process_wrapper: `[FLAGS] -- PROGRAM [ARGS...]` → the exit code. The one core
 * behind the bin shim, each worker request and the tests; it never exits the
 * process and prints only to `io`.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const debug = io.env.RULES_RUST_PROCESS_WRAPPER_DEBUG !== undefined ? (line: string) => void io.stderr.write(`seedwrap: debug: ${line}\n`) : undefined;
  const fds: number[] = [];
  try {
    const parsed = parseFlags(argv);
    // Help and version go to stdout (upstream prints its help to stderr).
    if (parsed.kind === 'help' || parsed.kind === 'version') {
      (io.stdout === 'inherit' ? process.stdout : io.stdout).write(parsed.kind === 'help' ? parsed.text : `seedwrap ${VERSION}\n`);
      return 0;
    }
    const opts = toOptions(parsed.flags);
    const resolvePath = (p: string) => resolve(io.cwd, p);
    const child = prepareChild(opts, parsed.child, io, resolvePath, debug);

    await runSeeding(opts, resolvePath, io, debug);
    // A signal that arrived while seeding: the action is being cancelled, so
    // no child is started (nor does --exit-early report success).
    if (io.signal?.aborted) return signalExitCode(io.signal.reason);
    if (opts.exitEarly) return 0;
    const [first, ...rest] = child.args;
    if (first === undefined) throw new SeedwrapError('USAGE', 'no program to run: give one after -- (or in an --arg-file)');
    const [program, args] = child.stable ? child.stable.wrap(first, rest) : [first, rest];

    const code = await runChild({
      program,
      args,
      env: child.env,
      cwd: io.cwd,
      stdin: io.stdin,
      ...openOutputs(opts, io, resolvePath, fds),
      format: opts.rustcOutputFormat,
      quitOnRmeta: opts.rustcQuitOnRmeta,
      signal: io.signal,
      debug,
    });
    if (code === 0) afterSuccess(opts, resolvePath);
    return code;
  } catch (err) {
    if (err instanceof SeedwrapError) {
      io.stderr.write(`seedwrap: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`seedwrap: internal error (please report): ${err instanceof Error ? err.stack : String(err)}\n`);
    return 1;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** The child's argv and env (spec §3–5), and where it will run. */
function prepareChild(opts: Options, cmdline: readonly string[], io: Io, resolvePath: (p: string) => string, debug?: (line: string) => void) {
  // Where the child runs decides `${pwd}` and OUT_DIR (no child with --exit-early).
  const stable = opts.stableCwd && !opts.exitEarly ? stableCwd(io, debug) : undefined;
  const pwd = stable?.path ?? io.cwd;
  const mappings = parseSubsts(opts.substs, io.cwd, opts.outDir, pwd);
  const raw = [...cmdline];
  for (const file of opts.argFiles) raw.push(...readLineFile(resolvePath(file), `--arg-file ${file}`));
  const { args, allowsFeatures } = prepareArgs(raw, mappings, resolvePath);
  if (opts.requireExplicitUnstableFeatures && !allowsFeatures) args.push('-Zallow-features=');
  const env = buildChildEnv({
    inherited: io.env,
    envFiles: opts.envFiles,
    stableStatusFile: opts.stableStatusFile,
    volatileStatusFile: opts.volatileStatusFile,
    outDir: opts.outDir,
    cwd: pwd,
    mappings,
    resolvePath,
  });
  debug?.(`child argv: ${JSON.stringify(args)}`);
  return { args, env, stable };
}

/**
 * `--stdout-file` is created (truncated) before the spawn; `--stderr-file` and
 * `--output-file` once the program has started (upstream's order: a program
 * that cannot be started leaves neither file behind).
 */
function openOutputs(opts: Options, io: Io, resolvePath: (p: string) => string, fds: number[]): Pick<ChildSpec, 'stdout' | 'stderr' | 'rawStderr' | 'onSpawn'> {
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
  return {
    stdout: opts.stdoutFile !== undefined ? open(opts.stdoutFile, '--stdout-file') : io.stdout,
    stderr: stderr?.sink ?? ((b) => void io.stderr.write(b)),
    rawStderr: raw?.sink,
    onSpawn: () => {
      stderr?.open();
      raw?.open();
    },
  };
}

function stableCwd(io: Io, debug?: (line: string) => void): StableCwd | undefined {
  const plan = planStableCwd(io.cwd);
  if (plan.kind === 'unavailable') {
    io.stderr.write(`seedwrap: --stable-cwd: ${plan.reason}; rustc runs in ${io.cwd} and cannot reuse a seed made in another sandbox\n`);
    return undefined;
  }
  if (plan.kind === 'stable') debug?.(`stable cwd ${plan.stable.path} for ${io.cwd}`);
  return plan.kind === 'stable' ? plan.stable : undefined;
}

function afterSpawnSink(path: string, flag: string, open: (path: string, flag: string) => number): { sink: Sink; open: () => void } {
  let fd = -1;
  return { sink: (bytes) => fileSink(fd)(bytes), open: () => void (fd = open(path, flag)) };
}

function fileSink(fd: number): Sink {
  return (bytes) => {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off);
  };
}

