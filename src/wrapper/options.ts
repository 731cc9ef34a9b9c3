import { resolve } from 'node:path';
import { SeedwrapError } from '../errors.ts';
import { parseMinMb } from '../seed/min-mb.ts';
import type { ParsedFlags } from './flags.ts';
import type { RustcOutputFormat } from './rustcOutput.ts';

/** Validated flags: every value checked, nothing read from disk yet. */
export interface Options {
  substs: string[];
  envFiles: string[];
  argFiles: string[];
  stableStatusFile?: string;
  volatileStatusFile?: string;
  outDir?: string;
  touchFile?: string;
  copyOutput?: [string, string];
  stdoutFile?: string;
  stderrFile?: string;
  outputFile?: string;
  rustcOutputFormat?: RustcOutputFormat;
  rustcQuitOnRmeta: boolean;
  requireExplicitUnstableFeatures: boolean;
  copySeed?: [string, string];
  seedPrevDir?: [string, string];
  seedMinBytes: number;
  exitEarly: boolean;
  /** undefined: not given (then on by itself for rustc with -C incremental in a sandbox). */
  stableCwd: boolean | undefined;
  writeUnusedInputs?: [string, string];
}

const MIB = 1024 * 1024;
export const DEFAULT_SEED_MIN_MB = 20;

export function toOptions(flags: ParsedFlags): Options {
  const one = (name: keyof ParsedFlags) => flags[name]?.[0];
  const two = (name: keyof ParsedFlags) => flags[name] as [string, string] | undefined;
  const bool = (name: keyof ParsedFlags) => parseBoolean(name, one(name));

  const format = one('--rustc-output-format');
  if (format !== undefined && format !== 'json' && format !== 'rendered') {
    throw new SeedwrapError('USAGE', `--rustc-output-format "${format}" is not one of: json, rendered`);
  }
  const copyOutput = two('--copy-output');
  if (copyOutput && resolve(copyOutput[0]) === resolve(copyOutput[1])) {
    throw new SeedwrapError('USAGE', `--copy-output source and destination are the same file: ${copyOutput[0]}`);
  }
  const exitEarly = bool('--exit-early');
  return {
    substs: flags['--subst'] ?? [],
    envFiles: flags['--env-file'] ?? [],
    argFiles: flags['--arg-file'] ?? [],
    stableStatusFile: one('--stable-status-file'),
    volatileStatusFile: one('--volatile-status-file'),
    outDir: one('--out-dir'),
    touchFile: one('--touch-file'),
    copyOutput,
    stdoutFile: one('--stdout-file'),
    stderrFile: one('--stderr-file'),
    outputFile: one('--output-file'),
    rustcOutputFormat: format,
    rustcQuitOnRmeta: bool('--rustc-quit-on-rmeta'),
    requireExplicitUnstableFeatures: bool('--require-explicit-unstable-features'),
    copySeed: two('--copy-seed'),
    seedPrevDir: two('--seed-prev-dir'),
    seedMinBytes: parseSeedMinMb(one('--seed-min-mb')),
    exitEarly,
    stableCwd: one('--stable-cwd') === undefined ? undefined : bool('--stable-cwd'),
    writeUnusedInputs: two('--write-unused-inputs'),
  };
}

/**
 * A boolean flag is `true` or `false`. Upstream turns one on for exactly
 * `true` and silently treats anything else as off, so `--stable-cwd yes`
 * would quietly do nothing; rules_rust only ever passes `true`, so refusing
 * other words changes no build (docs/compatibility.md).
 */
function parseBoolean(flag: string, value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new SeedwrapError('USAGE', `${flag} ${JSON.stringify(value)}: expected true or false`);
}

/** `--seed-min-mb N`: an unsigned whole number of MiB; 0 seeds everything. */
export function parseSeedMinMb(value: string | undefined): number {
  return (value === undefined ? DEFAULT_SEED_MIN_MB : parseMinMb('--seed-min-mb', value)) * MIB;
}
