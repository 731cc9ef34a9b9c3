/**
 * `seedwrap seed SRC DEST [--min-mb N] [--dry-run] [--json]`: the engine as a
 * standalone command for CI scripts. commander is imported here only: this
 * module is off the per-action path.
 */
import { Command, CommanderError } from 'commander';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import { SeedwrapError } from '../errors.ts';
import type { Io } from '../io.ts';
import { seedTree, type SeedReport } from './index.ts';
import { parseMinMb } from './min-mb.ts';
import { progressBar } from './progress.ts';

interface Parsed {
  src: string;
  dest: string;
  minMb: number;
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
    .option('--dry-run', 'plan and report, write nothing')
    .option('--json', 'print the report as JSON')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => stdoutOf(io).write(s),
      writeErr: (s) => io.stderr.write(s.startsWith('error: ') ? `seedwrap seed: ${s.slice(7)}` : s),
    });
  program.parse(argv, { from: 'user' });
  const opts = program.opts<{ minMb: string; dryRun?: boolean; json?: boolean }>();
  const [src, dest] = program.processedArgs as [string, string];
  return { src, dest, minMb: parseMinMb('--min-mb', opts.minMb), dryRun: opts.dryRun === true, json: opts.json === true };
}

export async function seedCommand(argv: string[], io: Io): Promise<number> {
  let args: Parsed;
  try {
    args = parseSeedArgs(argv, io);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof SeedwrapError) return fail(io, err);
    throw err;
  }
  const bar = isTTY(io.stderr) && !args.json ? progressBar(io.stderr) : undefined;
  const resolve = (p: string): string => (p.startsWith('/') ? p : `${io.cwd}/${p}`);
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
    if (err instanceof SeedwrapError && io.signal?.aborted) return interrupted(io, err);
    if (err instanceof SeedwrapError) return fail(io, err);
    throw err;
  } finally {
    bar?.finish();
  }
  stdoutOf(io).write(args.json ? `${JSON.stringify({ ...report, dryRun: args.dryRun })}\n` : `${summary(report, args.dryRun)}\n`);
  return 0;
}

function fail(io: Io, err: SeedwrapError): number {
  io.stderr.write(`seedwrap seed: ${err.message}\n`);
  return err.exitCode;
}

/** Killed by a signal: 128 + its number, as a shell reports it (SIGINT 130, SIGTERM 143). */
function interrupted(io: Io, err: SeedwrapError): number {
  io.stderr.write(`seedwrap seed: ${err.message}; nothing seeded\n`);
  const number = constants.signals[String(io.signal?.reason) as keyof typeof constants.signals];
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
