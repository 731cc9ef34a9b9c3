/**
 * `seedwrap seed SRC DEST [--min-mb N] [--allow-missing] [--dry-run] [--json]`:
 * the engine as a standalone command for CI scripts. commander is imported
 * here only: this module is off the per-action path.
 */
import { Command, CommanderError } from 'commander';
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { SeedwrapError, isSystemError } from '../errors.ts';
import type { Io } from '../io.ts';
import { seedTree, type SeedReport } from './index.ts';
import { parseMinMb } from './min-mb.ts';
import { progressBar } from './progress.ts';
import { VERSION } from '../version.ts';

interface Parsed {
  src: string;
  dest: string;
  minMb: number;
  allowMissing: boolean;
  dryRun: boolean;
  json: boolean;
}

function stdoutOf(io: Io): Writable {
  return io.stdout === 'inherit' ? process.stdout : io.stdout;
}

/** Parses argv (the words after `seed`); throws CommanderError or SeedwrapError. */
export function parseSeedArgs(argv: string[], io: Io): Parsed {
  const program = new Command('seedwrap seed')
    .description('Materialise an incremental tree (SRC) as DEST the way rustc reuses it: hard links, copies where needed, atomically.')
    .argument('<SRC>', 'the seed: a previous build\'s incremental directory')
    .argument('<DEST>', 'created; must be missing or empty')
    .option('--min-mb <N>', 'skip seeds smaller than N MiB (0 = always seed)', '0')
    .option('--allow-missing', 'a missing SRC is a cold start (an empty DEST), not an error')
    .option('--dry-run', 'plan and report, write nothing')
    .option('--json', 'print the report as JSON')
    .version(VERSION, '-V, --version')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => stdoutOf(io).write(s),
      writeErr: (s) => io.stderr.write(s.startsWith('error: ') ? `seedwrap seed: ${s.slice(7)}` : s),
    });
  program.parse(argv, { from: 'user' });
  const opts = program.opts<{ minMb: string; allowMissing?: boolean; dryRun?: boolean; json?: boolean }>();
  const [src, dest] = program.processedArgs as [string, string];
  return { src, dest, minMb: parseMinMb('--min-mb', opts.minMb), allowMissing: opts.allowMissing === true, dryRun: opts.dryRun === true, json: opts.json === true };
}

export async function seedCommand(argv: string[], io: Io): Promise<number> {
  let args: Parsed;
  // Before parsing succeeds, --json is known only as a word in argv.
  const json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : undefined).includes('--json');
  try {
    args = parseSeedArgs(argv, io);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      if (json) writeJsonError(io, 'USAGE', err.message.replace(/^error: /, ''), 2);
      return 2;
    }
    if (err instanceof SeedwrapError) return fail(io, err, json);
    throw err;
  }
  const bar = isTTY(io.stderr) && !args.json ? progressBar(io.stderr) : undefined;
  const resolve = (p: string): string => (p.startsWith('/') ? p : `${io.cwd}/${p}`);
  const missing = !args.allowMissing && missingSource(resolve(args.src));
  if (missing) return fail(io, new SeedwrapError('INPUT', `SRC ${args.src}: ${missing} (give --allow-missing to treat a missing seed as a cold start)`), args.json);
  let report: SeedReport;
  try {
    report = await seedTree(resolve(args.src), resolve(args.dest), {
      minBytes: args.minMb * 1048576,
      writableWorkProducts: true, // DEST is a tree rustc will write into
      dryRun: args.dryRun,
      onProgress: bar && ((done, total) => bar.update(done, total)),
      signal: io.signal,
      cwd: io.cwd,
      debug: io.env.RULES_RUST_PROCESS_WRAPPER_DEBUG === undefined ? undefined : (line) => void io.stderr.write(`seedwrap seed: debug: ${line}\n`),
    }, true);
  } catch (err) {
    if (err instanceof SeedwrapError && io.signal?.aborted) return interrupted(io, err, args.json);
    if (err instanceof SeedwrapError) return fail(io, unwritableParentError(resolve(args.dest), args.dest, err) ?? err, args.json);
    throw err;
  } finally {
    bar?.finish();
  }
  // A dry run writes nothing, so it never reports "seeded".
  const outcome = args.dryRun && report.outcome === 'seeded' ? 'would-seed' : report.outcome;
  stdoutOf(io).write(args.json ? `${JSON.stringify({ ...report, outcome, dryRun: args.dryRun })}\n` : `${summary(report, args.dryRun)}\n`);
  return 0;
}

/** Why SRC cannot be seeded from, when it is not there at all (a typo in a CI script must not turn seeding off silently). */
function missingSource(src: string): string | undefined {
  try {
    statSync(src);
    return undefined;
  } catch (err) {
    return isSystemError(err, 'ENOENT', 'ENOTDIR') ? 'does not exist' : undefined;
  }
}

/**
 * The seed is staged next to DEST, so an unwritable parent fails on the
 * staging directory's name, which the user never chose: name the directory
 * that cannot be written instead (the nearest one that exists).
 */
function unwritableParentError(dest: string, shown: string, err: SeedwrapError): SeedwrapError | undefined {
  // Only a refused write is reworded: any other failure keeps its own message.
  if (!isSystemError(err.cause, 'EACCES', 'EPERM', 'EROFS')) return undefined;
  let dir = dirname(dest);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, fsConstants.W_OK);
    return undefined;
  } catch (denied) {
    const code = isSystemError(denied) ? denied.code : String(denied);
    return new SeedwrapError('SEED', `cannot create DEST ${shown}: ${dir} is not writable (${code})`, { cause: err });
  }
}

/** With --json, an error is also a JSON object on stdout, so a script parsing stdout always gets one. */
function writeJsonError(io: Io, code: string, message: string, exitCode: number): void {
  stdoutOf(io).write(`${JSON.stringify({ outcome: 'error', error: { code, message }, exitCode })}\n`);
}

function fail(io: Io, err: SeedwrapError, json = false): number {
  io.stderr.write(`seedwrap seed: ${err.message}\n`);
  if (json) writeJsonError(io, err.code, err.message, err.exitCode);
  return err.exitCode;
}

/** Killed by a signal: 128 + its number, as a shell reports it (SIGINT 130, SIGTERM 143). */
function interrupted(io: Io, err: SeedwrapError, json: boolean): number {
  io.stderr.write(`seedwrap seed: ${err.message}; nothing seeded\n`);
  const number = constants.signals[String(io.signal?.reason) as keyof typeof constants.signals];
  if (json) writeJsonError(io, 'INTERRUPTED', `${err.message}; nothing seeded`, 128 + (number ?? 15));
  return 128 + (number ?? 15);
}

function isTTY(stream: Writable): boolean {
  return 'isTTY' in stream && stream.isTTY === true;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

export function summary(r: SeedReport, dryRun: boolean): string {
  const skipped = r.skipped.length === 0 ? '' : `, ${r.skipped.length} skipped`;
  switch (r.outcome) {
    case 'missing-source':
      return 'nothing to seed: the source does not exist (cold start)';
    case 'empty-source':
      return 'nothing to seed: the source has no files';
    case 'below-threshold':
      return `not seeded: ${r.files} files, ${mib(r.bytes)}, below the --min-mb threshold`;
    case 'seeded':
      return dryRun
        ? `would seed ${r.files} files (${mib(r.bytes)}${skipped}), ${r.layout} layout`
        : `seeded ${r.files} files (${r.linked} linked, ${r.copied} copied${skipped}), ${mib(r.bytes)} in ${r.ms} ms [${r.strategy}, ${r.layout} layout]`;
  }
}
