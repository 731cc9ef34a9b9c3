import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/child.ts';
import { processRustcLine } from '../../src/rustcOutput.ts';

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
  it('rewrites LLVM feature noise and " WARN " lines into JSON warnings', () => {
    const noise = "'+zaamo' is not a recognized feature for this target (ignoring feature)";
    const json = processRustcLine(line(noise), 'json', false);
    if (json.kind !== 'write') throw new Error('expected write');
    const parsed = JSON.parse(json.bytes.toString());
    expect(parsed).toEqual({ $message_type: 'diagnostic', message: noise, code: null, level: 'warning', spans: [], children: [], rendered: noise + '\n' });
    expect(json.bytes.at(-1)).toBe(0x0a);
    expect(processRustcLine(line(' WARN rustc_errors::emitter x'), 'rendered', false)).toEqual({ kind: 'write', bytes: line(' WARN rustc_errors::emitter x') });
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
