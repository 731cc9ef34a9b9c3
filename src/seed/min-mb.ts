import { SeedwrapError } from '../errors.ts';

/** The largest threshold accepted: 1 TiB. Anything larger is a typo, not a seed size. */
export const MAX_MIN_MB = 1_048_576;

/**
 * Validates a seed threshold in MiB (`--min-mb`, `--seed-min-mb`): an unsigned
 * decimal integer, 0 = always seed. The message names the flag and the value.
 */
export function parseMinMb(flag: string, value: string): number {
  const shown = JSON.stringify(value);
  if (!/^[0-9]+$/.test(value)) {
    throw new SeedwrapError('USAGE', `${flag}: expected an unsigned integer number of MiB (0 = always seed), got ${shown}`);
  }
  const mb = Number(value);
  if (mb > MAX_MIN_MB) throw new SeedwrapError('USAGE', `${flag}: ${shown} MiB is too large (at most ${MAX_MIN_MB})`);
  return mb;
}
