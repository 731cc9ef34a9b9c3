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
 * turned into JSON warnings rather than failing the action.
 */
function llvmNoiseToJson(line: string): string {
  const message = line.replace(/\r?\n$/, '');
  return JSON.stringify({ $message_type: 'diagnostic', message, code: null, level: 'warning', spans: [], children: [], rendered: message + '\n' });
}

/** `line` is one stderr line with its `\n` (if it had one). */
export function processRustcLine(line: Buffer, format: RustcOutputFormat, quitOnRmeta: boolean): LineAction {
  let text = line.toString('utf8');
  let original = line;
  if (text.includes(LLVM_FEATURE_NOISE) || text.startsWith(' WARN ')) {
    text = llvmNoiseToJson(text);
    original = Buffer.from(text + '\n');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'not-json' };
  }
  // A line whose bytes were not UTF-8 cannot be JSON rustc wrote.
  if (text.includes('\uFFFD') && !line.equals(Buffer.from(text))) return { kind: 'not-json' };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'skip' };
  const record = value as Record<string, unknown>;
  if (typeof record.emit === 'string') {
    return quitOnRmeta && record.emit === 'metadata' ? { kind: 'metadata-done' } : { kind: 'skip' };
  }
  if (typeof record.rendered === 'string') {
    if (format === 'json') return { kind: 'write', bytes: original.at(-1) === 0x0a ? original : Buffer.concat([original, Buffer.from('\n')]) };
    return { kind: 'write', bytes: Buffer.from(record.rendered) };
  }
  return { kind: 'skip' };
}
