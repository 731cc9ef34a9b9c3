import { createHash } from 'node:crypto';
import type { InputIds } from './inputs.ts';

/**
 * What a producer sends each consumer, once, then closes the connection:
 * `u32 BE header length | header JSON | stderr prefix | rmeta`. The prefix is
 * every raw stderr line rustc wrote up to and including the metadata artifact
 * notification, exactly as read; the consumer runs it through its own
 * `--rustc-output-format`, `--output-file` and `--stderr-file` handling, as
 * its own rustc's lines would have been. A producer that cannot share sends
 * only a header with `unshareable`, so consumers stop waiting at once.
 */
export interface Header {
  v: 1;
  prefix: number;
  rmeta: number;
  sha256: string;
  inputs: InputIds;
  unshareable?: string;
}

export interface Message {
  header: Header;
  prefix: Buffer;
  rmeta: Buffer;
}

export function encode(m: Message): Buffer {
  const head = Buffer.from(JSON.stringify(m.header));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(head.length);
  return Buffer.concat([len, head, m.prefix, m.rmeta]);
}

export function unshareable(reason: string): Buffer {
  return encode({ header: { v: 1, prefix: 0, rmeta: 0, sha256: '', inputs: [], unshareable: reason }, prefix: Buffer.alloc(0), rmeta: Buffer.alloc(0) });
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The message, or why it is not one (truncated, oversized, damaged). */
export function decode(bytes: Buffer): Message | { reason: string } {
  if (bytes.length < 4) return { reason: 'the producer ended before it sent the rmeta' };
  const headLen = bytes.readUInt32BE(0);
  if (bytes.length < 4 + headLen) return { reason: 'truncated message' };
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(4, 4 + headLen).toString('utf8')) as Header;
  } catch {
    return { reason: 'unreadable message header' };
  }
  if (header.v !== 1) return { reason: `message version ${String(header.v)}` };
  if (header.unshareable !== undefined) return { reason: `the producer cannot share: ${header.unshareable}` };
  const start = 4 + headLen;
  if (bytes.length !== start + header.prefix + header.rmeta) return { reason: `message of ${bytes.length} bytes, expected ${start + header.prefix + header.rmeta}` };
  const prefix = bytes.subarray(start, start + header.prefix);
  const rmeta = bytes.subarray(start + header.prefix);
  if (sha256(rmeta) !== header.sha256) return { reason: 'the rmeta does not match its hash' };
  return { header, prefix, rmeta };
}
