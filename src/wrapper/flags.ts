import { SeedwrapError } from '../errors.ts';

/**
 * process_wrapper's flag grammar, as one declarative table so parsing and
 * `--help` cannot drift. Names are byte-identical to upstream's.
 *
 * - single: exactly one value, at most once ("can only appear once")
 * - multi:  repeatable, values accumulate
 * - pair:   exactly two values, once
 * - pairs:  values accumulate across occurrences, exactly two in total
 *           (upstream's `--copy-output` is a repeated flag checked for two values)
 */
type Arity = 'single' | 'multi' | 'pair' | 'pairs';

interface FlagSpec {
  arity: Arity;
  help: string;
}

export const FLAGS = {
  '--subst': { arity: 'multi', help: 'KEY=VALUE: replace ${KEY} in child args, param files and env values; VALUE may be ${pwd}, ${exec_root}, ${output_base}' },
  '--env-file': { arity: 'multi', help: 'FILE of KEY=VALUE lines added to the child environment' },
  '--arg-file': { arity: 'multi', help: 'FILE whose lines are appended to the child arguments' },
  '--volatile-status-file': { arity: 'single', help: 'Bazel volatile status FILE; {KEY} in env values is replaced' },
  '--stable-status-file': { arity: 'single', help: 'Bazel stable status FILE; {KEY} in env values is replaced' },
  '--out-dir': { arity: 'single', help: 'DIR: sets OUT_DIR=${pwd}/DIR and the ${out_dir} substitution' },
  '--touch-file': { arity: 'single', help: 'FILE created (truncated) after the child succeeds' },
  '--copy-output': { arity: 'pairs', help: 'SRC DEST: copy SRC to DEST after the child succeeds' },
  '--stdout-file': { arity: 'single', help: "FILE receiving the child's stdout" },
  '--stderr-file': { arity: 'single', help: "FILE receiving the child's (processed) stderr" },
  '--output-file': { arity: 'single', help: "FILE receiving every raw stderr line of the child" },
  '--rustc-output-format': { arity: 'single', help: 'json|rendered: process rustc --error-format=json diagnostics' },
  '--rustc-quit-on-rmeta': { arity: 'single', help: 'true: kill rustc once the metadata artifact is written, exit 0' },
  '--require-explicit-unstable-features': { arity: 'single', help: 'true: append -Zallow-features= unless already given' },
  '--copy-seed': { arity: 'pair', help: 'SEED DEST: materialise the incremental seed SEED into DEST before the child runs' },
  '--seed-prev-dir': { arity: 'pair', help: "PREV DEST: seed DEST from a previous build's tree PREV (missing PREV: cold start)" },
  '--seed-min-mb': { arity: 'single', help: 'N: skip seeds smaller than N MiB (default 20, 0 = always seed)' },
  '--exit-early': { arity: 'single', help: 'true: exit 0 after seeding without running a child' },
  '--stable-cwd': { arity: 'single', help: 'true|false: inside a Bazel sandbox, run the child from <output_base>/sandbox/stable/execroot/<ws> (a private mount namespace) so rustc can reuse incremental state; on by itself when rustc gets -C incremental' },
  '--write-unused-inputs': { arity: 'pair', help: "FILE INPUT: after success write INPUT (Bazel's unused_inputs_list)" },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;
export type ParsedFlags = Partial<Record<FlagName, string[]>>;

export type ParseOutcome =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'run'; flags: ParsedFlags; child: string[] };

/** Words that are not process_wrapper flags but mean the same everywhere in seedwrap. */
const HELP = new Set(['--help', '-h']);
const VERSION = new Set(['--version', '-V']);

/** `--help`, `-h`, `--version` or `-V`. */
export const isHelpOrVersion = (token: string): boolean => HELP.has(token) || VERSION.has(token);

function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(FLAGS, name);
}

export function parseFlags(argv: readonly string[]): ParseOutcome {
  const flags: ParsedFlags = {};
  let i = 0;
  while (i < argv.length) {
    const token = argv[i++]!;
    if (token === '--') return checked({ kind: 'run', flags, child: argv.slice(i) });
    if (HELP.has(token)) return { kind: 'help', text: helpText() };
    if (VERSION.has(token)) return { kind: 'version' };
    if (!token.startsWith('--')) throw usage(`unknown flag "${token}"${hint(token) || ' (flags start with --; put the program after --)'}`);
    const values: string[] = [];
    while (i < argv.length && !argv[i]!.startsWith('--')) values.push(argv[i++]!);
    // Upstream checks for a value before it looks the name up.
    if (values.length === 0) throw usage(`missing parameter(s) for ${token}${isFlagName(token) ? '' : hint(token)}`);
    if (!isFlagName(token)) throw usage(`unknown flag "${token}"${hint(token)}`);
    const { arity } = FLAGS[token];
    const previous = flags[token];
    if (arity === 'multi' || arity === 'pairs') {
      flags[token] = [...(previous ?? []), ...values];
      continue;
    }
    if (previous) throw usage(`${token} can only appear once`);
    if (arity === 'single' && values.length !== 1) throw usage(`${token} can only appear once (got ${values.length} values: ${values.join(' ')})`);
    if (arity === 'pair' && values.length !== 2) throw usage(`${token} takes exactly two values (got ${values.length}: ${values.join(' ')})`);
    flags[token] = values;
  }
  return checked({ kind: 'run', flags, child: [] });
}

function checked(outcome: ParseOutcome & { kind: 'run' }): ParseOutcome {
  for (const [name, spec] of Object.entries(FLAGS)) {
    const values = outcome.flags[name as FlagName];
    if (spec.arity === 'pairs' && values && values.length !== 2) {
      throw usage(`${name} takes exactly two values in total (got ${values.length}: ${values.join(' ')})`);
    }
  }
  return outcome;
}

/**
 * What the user probably meant by a flag that is not one: `--seed-min-mb=0`
 * (the grammar has no `=` form), `--copyseed`, `-copy-seed`.
 */
function hint(token: string): string {
  const eq = token.indexOf('=');
  if (eq > 0 && isFlagName(token.slice(0, eq))) {
    const name = token.slice(0, eq);
    return ` (flags take no "=": write ${name} ${token.slice(eq + 1) || 'VALUE'})`;
  }
  const known = [...Object.keys(FLAGS), '--help', '--version', '--persistent_worker', '--worker-incremental-dir', '--worker-incremental-max-mb'];
  let best: string | undefined;
  let bestDistance = 3; // at most two edits away
  for (const name of known) {
    const d = editDistance(token, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function usage(message: string): SeedwrapError {
  return new SeedwrapError('USAGE', message);
}

export function helpText(): string {
  const width = Math.max(...Object.keys(FLAGS).map((n) => n.length));
  const rows = Object.entries(FLAGS).map(([name, spec]) => `  ${name.padEnd(width)}  ${spec.help}`);
  return [
    'usage: seedwrap [FLAGS] -- PROGRAM [ARGS...]',
    '       seedwrap seed SRC DEST [--min-mb N] [--allow-missing] [--dry-run] [--json]   (seedwrap seed --help)',
    '       seedwrap --persistent_worker [FLAGS] [--worker-incremental-dir DIR|auto] [--worker-incremental-max-mb N]',
    '       seedwrap --help | -h | --version | -V',
    '',
    'Flags (each takes the following tokens that do not start with --; there is no --flag=value form):',
    ...rows,
    '',
    'Booleans take true or false. A usage error exits 2; otherwise the exit code is the program\'s.',
    '',
  ].join('\n');
}
