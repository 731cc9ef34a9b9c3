/**
 * Bazel's worker protocol messages (`src/main/protobuf/worker_protocol.proto`,
 * package `blaze.worker`), as plain objects. Field numbers are listed where the
 * codec uses them; the JSON protocol uses the proto3 JSON names (camelCase).
 */
export interface WorkInput {
  /** Input.path = 1: exec-root relative or absolute. */
  path: string;
  /** Input.digest = 2: opaque bytes (base64 in JSON). */
  digest: Uint8Array;
}

export interface WorkRequest {
  /** arguments = 1: the lines of Bazel's `@flagfile`. */
  arguments: string[];
  /** inputs = 2. */
  inputs: WorkInput[];
  /** request_id = 3: 0 means singleplex. */
  requestId: number;
  /** cancel = 4: cancel the earlier request with the same id. */
  cancel: boolean;
  /** verbosity = 5: > 0 asks for debug output on stderr. */
  verbosity: number;
  /** sandbox_dir = 6 (Bazel 5+ multiplex sandboxing); '' when absent. */
  sandboxDir: string;
}

export interface WorkResponse {
  /** exit_code = 1. */
  exitCode: number;
  /** output = 2: must be valid UTF-8 (Bazel's Java parser enforces it for proto3 strings). */
  output: string;
  /** request_id = 3. */
  requestId: number;
  /** was_cancelled = 4. */
  wasCancelled: boolean;
}

export function emptyRequest(): WorkRequest {
  return { arguments: [], inputs: [], requestId: 0, cancel: false, verbosity: 0, sandboxDir: '' };
}

/** Raised for bytes that cannot be a well-formed frame; the worker cannot resync after one. */
export class FramingError extends Error {
  /** The bytes ended early: more input could still make them valid. */
  readonly truncated: boolean;
  constructor(message: string, truncated = false) {
    super(message);
    this.name = 'FramingError';
    this.truncated = truncated;
  }
}

/** A well-framed request whose contents are wrong: answered with exit 1 when its id is known. */
export class RequestError extends Error {
  readonly requestId: number | undefined;
  constructor(message: string, requestId: number | undefined) {
    super(message);
    this.name = 'RequestError';
    this.requestId = requestId;
  }
}
