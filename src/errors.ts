/**
 * The one error class seedwrap throws on purpose. `code` names the kind of
 * failure, `exitCode` is what the process (or worker response) reports, and the
 * message is the single line printed to the user: it names the flag, value or
 * path at fault.
 */
export type ErrorCode =
  | 'USAGE' // bad flag grammar or flag value
  | 'INPUT' // an input file is missing, unreadable or malformed
  | 'SPAWN' // the child could not be started
  | 'OUTPUT' // an output file could not be written
  | 'SEED'; // seeding failed (callers turn this into "starting cold")

// The bundle compiles the worker and the seeding engine as separate chunks,
// each with its own copy of this module (scripts/build.mjs). A registry symbol
// is the same in every copy, so `instanceof` holds across them.
const BRAND = Symbol.for('seedwrap.SeedwrapError');

export class SeedwrapError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SeedwrapError';
    this.code = code;
    // A usage error exits 2 everywhere (wrapper, seed, worker); anything else 1.
    this.exitCode = options.exitCode ?? (code === 'USAGE' ? 2 : 1);
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** A Node system error (ENOENT, EXDEV, ...): checked in one place, never via `any`. */
export interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
}

export function isSystemError(err: unknown, ...codes: string[]): err is SystemError {
  if (!(err instanceof Error) || err instanceof SeedwrapError || !('code' in err) || typeof err.code !== 'string') return false;
  return codes.length === 0 || codes.includes(err.code);
}

/** `ENOENT: /a/b` style text for a system error, the message otherwise. */
export function describe(err: unknown): string {
  if (isSystemError(err)) return err.path ? `${err.code} (${err.path})` : err.code;
  return err instanceof Error ? err.message : String(err);
}
