import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/wrapper/child.ts';
import { processRustcLine } from '../../src/wrapper/rustcOutput.ts';

const line = (s: string) => Buffer.from(s + '\n');
const diag = JSON.stringify({ $message_type: 'diagnostic', message: 'm', rendered: 'error: m\n --> a.rs:1:1\n' });

describe('processRustcLine', () => {
  it('json mode forwards the original line; rendered mode the rendered text', () => {
    expect(processRustcLine(line(diag), 'json', false)).toEqual({ kind: 'write', bytes: line(diag) });
    expect(processRustcLine(line(diag), 'rendered', false)).toEqual({ kind: 'write', bytes: Buffer.from('error: m\n --> a.rs:1:1\n') });
  });
  it('drops artifact notifications and objects without rendered', () => {
    expect(processRustcLine(line('{"$message_type":"artifact","emit":"link","artifact":"x"}'), 'rendered', true).kind).toBe('skip');
    expect(processRustcLine(line('{"$message_type":"future_incompat"}'), 'json', false).kind).toBe('skip');
    expect(processRustcLine(line('[1,2]'), 'json', false).kind).toBe('skip');
  });
  it('the metadata artifact ends the action only with --rustc-quit-on-rmeta', () => {
    const meta = line('{"$message_type":"artifact","artifact":"libx.rmeta","emit":"metadata"}');
    expect(processRustcLine(meta, 'rendered', true).kind).toBe('metadata-done');
    expect(processRustcLine(meta, 'rendered', false).kind).toBe('skip');
  });
  it('a non-JSON line is reported', () => {
    expect(processRustcLine(line('error: plain text'), 'json', false).kind).toBe('not-json');
    expect(processRustcLine(Buffer.from([0x7b, 0xff, 0x7d, 0x0a]), 'json', false).kind).toBe('not-json');
  });
  it('rewrites LLVM feature noise and " WARN " lines into JSON warnings; message and rendered keep the newline (upstream)', () => {
    const noise = "'+zaamo' is not a recognized feature for this target (ignoring feature)";
    const json = processRustcLine(line(noise), 'json', false);
    if (json.kind !== 'write') throw new Error('expected write');
    const parsed = JSON.parse(json.bytes.toString());
    expect(parsed).toEqual({ $message_type: 'diagnostic', message: noise + '\n', code: null, level: 'warning', spans: [], children: [], rendered: noise + '\n' });
    // Divergence: upstream writes this JSON without a newline (docs/compatibility.md).
    expect(json.bytes.at(-1)).toBe(0x0a);
    expect(json.bytes.subarray(0, -1).includes(0x0a)).toBe(false);
    expect(processRustcLine(line(' WARN rustc_errors::emitter x'), 'rendered', false)).toEqual({ kind: 'write', bytes: line(' WARN rustc_errors::emitter x') });
    // CRLF and a last line without a newline: the text exactly as rustc wrote it.
    const crlf = processRustcLine(Buffer.from(' WARN y\r\n'), 'json', false);
    if (crlf.kind !== 'write') throw new Error('expected write');
    expect(JSON.parse(crlf.bytes.toString())).toMatchObject({ message: ' WARN y\r\n', rendered: ' WARN y\r\n' });
    expect(processRustcLine(Buffer.from(' WARN z'), 'rendered', false)).toEqual({ kind: 'write', bytes: Buffer.from(' WARN z') });
  });
  it('a last JSON line without a newline is forwarded without one (json mode)', () => {
    expect(processRustcLine(Buffer.from(diag), 'json', false)).toEqual({ kind: 'write', bytes: Buffer.from(diag) });
  });
  it('a JSON line holding a lone surrogate is not JSON (upstream\'s parser rejects it), a surrogate pair is', () => {
    expect(processRustcLine(line('{"rendered":"\\ud800"}'), 'rendered', false).kind).toBe('not-json');
    expect(processRustcLine(line('{"rendered":"x\\udc00"}'), 'json', false).kind).toBe('not-json');
    expect(processRustcLine(line('{"\\ud800":1,"rendered":"r"}'), 'json', false).kind).toBe('not-json');
    expect(processRustcLine(line('{"spans":[{"text":"\\ud800"}],"rendered":"r"}'), 'json', false).kind).toBe('not-json');
    expect(processRustcLine(line('{"rendered":"\\ud83d\\ude00"}'), 'rendered', false)).toEqual({ kind: 'write', bytes: Buffer.from('\u{1F600}') });
  });
});

describe('LineSplitter', () => {
  it('splits on \\n only, across chunk boundaries, keeping \\r and bytes', () => {
    const s = new LineSplitter();
    const input = Buffer.from('a\r\nb\rc\n\xff\xfe-partial', 'latin1');
    const out: Buffer[] = [];
    for (let i = 0; i < input.length; i++) out.push(...s.push(input.subarray(i, i + 1)));
    expect(out.map((b) => b.toString('latin1'))).toEqual(['a\r\n', 'b\rc\n']);
    expect(s.flush()?.toString('latin1')).toBe('\xff\xfe-partial');
    expect(s.flush()).toBeUndefined();
  });
});
