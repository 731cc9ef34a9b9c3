import { SeedwrapError } from '../errors.ts';

/**
 * rustc's `--error-format=json` stream, line by line, as process_wrapper
 * handles it with `--rustc-output-format json|rendered`.
 */
export type RustcOutputFormat = 'json' | 'rendered';

export type LineAction =
  | { kind: 'write'; bytes: Buffer }
  | { kind: 'skip' }
  /** The metadata artifact is written: with `--rustc-quit-on-rmeta`, stop and kill rustc. */
  | { kind: 'metadata-done' }
  /** Not JSON: forward it and the rest of stderr raw, then fail. */
  | { kind: 'not-json' };

const LLVM_FEATURE_NOISE = 'is not a recognized feature for this target (ignoring feature)';

/**
 * LLVM prints some warnings as plain text into rustc's JSON stream; they are
 * turned into JSON warnings rather than failing the action. Like upstream,
 * `message` and `rendered` are the whole line, its newline included.
 */
function llvmNoiseToJson(line: string): string {
  return JSON.stringify({ $message_type: 'diagnostic', message: line, code: null, level: 'warning', spans: [], children: [], rendered: line });
}

/**
 * A string holding a UTF-16 surrogate that is not half of a pair (JSON
 * `"\ud800"`). Upstream's JSON parser rejects it (a Rust string cannot hold
 * it), so such a line is "not JSON" there; rustc itself never writes one.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([key, v]) => LONE_SURROGATE.test(key) || hasLoneSurrogate(v));
  }
  return false;
}

/** `line` is one stderr line with its `\n` (if it had one). */
export function processRustcLine(line: Buffer, format: RustcOutputFormat, quitOnRmeta: boolean): LineAction {
  let text = line.toString('utf8');
  // A line whose bytes were not UTF-8 cannot be JSON rustc wrote.
  if (text.includes('\uFFFD') && !line.equals(Buffer.from(text))) return { kind: 'not-json' };
  let original = line;
  if (text.includes(LLVM_FEATURE_NOISE) || text.startsWith(' WARN ')) {
    text = llvmNoiseToJson(text);
    // Upstream writes this JSON without a newline, gluing the next line onto
    // it; seedwrap ends it with one (docs/compatibility.md).
    original = Buffer.from(text + '\n');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'not-json' };
  }
  if (hasLoneSurrogate(value)) return { kind: 'not-json' };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'skip' };
  const record = value as Record<string, unknown>;
  if (typeof record.emit === 'string') {
    return quitOnRmeta && record.emit === 'metadata' ? { kind: 'metadata-done' } : { kind: 'skip' };
  }
  if (typeof record.rendered === 'string') {
    // json: the line as rustc wrote it, a last line without `\n` included.
    return { kind: 'write', bytes: format === 'json' ? original : Buffer.from(record.rendered) };
  }
  return { kind: 'skip' };
}

/**
 * The one line printed after a non-JSON line and the rest of stderr were
 * forwarded: upstream's own words, so a log search for them still matches.
 */
export function notJsonError(lineNumber: number): SeedwrapError {
  return new SeedwrapError('OUTPUT', `failed to process stderr: error parsing rustc output as json (line ${lineNumber} of rustc's stderr, forwarded above as is)`);
}
