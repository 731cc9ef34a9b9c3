import { emptyRequest, FramingError, RequestError, type WorkRequest, type WorkResponse } from './messages.ts';

/**
 * WorkRequest/WorkResponse in proto3's JSON mapping: camelCase names (the
 * original snake_case names are accepted too, as protobuf's JSON parser does),
 * int32 as a number or a numeric string, bytes as base64, defaults omitted
 * (Bazel omits `requestId` when it is 0).
 *
 * Validation is hand-written rather than zod: zod would be bundled into
 * dist/seedwrap.cjs, which every one-shot action parses (see docs/worker.md).
 */

type Json = Record<string, unknown>;

function field(obj: Json, camel: string, snake: string): unknown {
  return obj[camel] !== undefined ? obj[camel] : obj[snake];
}

function int32(value: unknown, name: string): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
    throw new Error(`${name} must be an int32, got ${JSON.stringify(value)}`);
  }
  return n;
}

function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`${name} must be an array of strings`);
  }
  return value;
}

function inputs(value: unknown): WorkRequest['inputs'] {
  if (!Array.isArray(value)) throw new Error('inputs must be an array');
  return value.map((item, i) => {
    if (typeof item !== 'object' || item === null) throw new Error(`inputs[${i}] must be an object`);
    const { path = '', digest = '' } = item as Json;
    if (typeof path !== 'string' || typeof digest !== 'string') {
      throw new Error(`inputs[${i}] needs a string path and a base64 digest`);
    }
    return { path, digest: Buffer.from(digest, 'base64') };
  });
}

/** Parses one JSON object's bytes into a WorkRequest. */
export function decodeJsonRequest(bytes: Buffer): WorkRequest {
  let obj: unknown;
  try {
    obj = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    const text = bytes.length > 200 ? `${bytes.subarray(0, 200).toString('utf8')}...` : bytes.toString('utf8');
    throw new FramingError(`malformed JSON WorkRequest (${(err as Error).message}): ${text}`);
  }
  const o = obj as Json;
  const req = emptyRequest();
  // The id first, so that a bad field in an otherwise well-framed request can
  // still be answered (a failing request never stops the loop).
  let requestId: number | undefined;
  try {
    const id = field(o, 'requestId', 'request_id');
    requestId = id === undefined ? 0 : int32(id, 'requestId');
  } catch (err) {
    throw new FramingError(`JSON WorkRequest has an unusable id: ${(err as Error).message}`);
  }
  req.requestId = requestId;
  try {
    const args = field(o, 'arguments', 'arguments');
    if (args !== undefined) req.arguments = stringList(args, 'arguments');
    const ins = field(o, 'inputs', 'inputs');
    if (ins !== undefined) req.inputs = inputs(ins);
    const cancel = field(o, 'cancel', 'cancel');
    if (cancel !== undefined) {
      if (typeof cancel !== 'boolean') throw new Error('cancel must be a boolean');
      req.cancel = cancel;
    }
    const verbosity = field(o, 'verbosity', 'verbosity');
    if (verbosity !== undefined) req.verbosity = int32(verbosity, 'verbosity');
    const sandboxDir = field(o, 'sandboxDir', 'sandbox_dir');
    if (sandboxDir !== undefined) {
      if (typeof sandboxDir !== 'string') throw new Error('sandboxDir must be a string');
      req.sandboxDir = sandboxDir;
    }
  } catch (err) {
    throw new RequestError(`invalid JSON WorkRequest: ${(err as Error).message}`, requestId);
  }
  return req;
}

/**
 * One response object and a newline. Bazel reads responses with a lenient
 * Gson JsonReader, so whitespace between objects is fine; the newline makes
 * worker logs readable. `wasCancelled` is unknown to Bazel 4.2.3 and skipped.
 */
export function encodeJsonResponse(res: WorkResponse): Buffer {
  const out: Json = { exitCode: res.exitCode, output: res.output };
  if (res.requestId !== 0) out.requestId = res.requestId;
  if (res.wasCancelled) out.wasCancelled = true;
  return Buffer.from(`${JSON.stringify(out)}\n`, 'utf8');
}
