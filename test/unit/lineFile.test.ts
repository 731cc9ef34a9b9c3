import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLines, readLineFile } from '../../src/wrapper/lineFile.ts';
import { tempDir } from '../helpers/tmp.ts';

describe('parseLines', () => {
  it('splits on \\n and drops a \\r right before it, and empty lines', () => {
    expect(parseLines('a\r\nb\n\nc')).toEqual(['a', 'b', 'c']);
  });
  it('keeps whitespace-only lines and a lone \\r inside a line', () => {
    expect(parseLines('  \nx\ry\n')).toEqual(['  ', 'x\ry']);
  });
  it('keeps a final \\r that is not before a \\n', () => {
    expect(parseLines('a\r')).toEqual(['a\r']);
  });
  it('halves trailing backslashes; an odd count continues the line with a newline', () => {
    expect(parseLines('a\\\\\n')).toEqual(['a\\']);
    expect(parseLines('a\\\nb\n')).toEqual(['a\nb']);
    expect(parseLines('a\\\\\\\nb\n')).toEqual(['a\\\nb']);
  });
  it('skips empty lines inside a continuation', () => {
    expect(parseLines('a\\\n\nb\n')).toEqual(['a\nb']);
  });
  it('drops a continuation still open at the end of the file', () => {
    expect(parseLines('x\na\\\n')).toEqual(['x']);
    expect(parseLines('x\na\\')).toEqual(['x']);
  });
  it('a line of only backslashes', () => {
    expect(parseLines('\\\\\n')).toEqual(['\\']);
  });
});

describe('readLineFile', () => {
  it('names the flag and path when the file is missing', () => {
    const dir = tempDir();
    expect(() => readLineFile(join(dir, 'nope'), '--arg-file nope')).toThrow(/--arg-file nope: cannot read .*nope: ENOENT/);
  });
  it('rejects invalid UTF-8, naming the path', () => {
    const dir = tempDir();
    const p = join(dir, 'bad');
    writeFileSync(p, Buffer.from([0x61, 0xff, 0x0a]));
    expect(() => readLineFile(p, '--env-file bad')).toThrow(/--env-file bad: .*bad is not valid UTF-8/);
  });
});

describe('byte-order mark', () => {
  it('a leading UTF-8 BOM stays part of the first line, as upstream keeps it', () => {
    const dir = tempDir();
    const p = join(dir, 'bom');
    writeFileSync(p, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('--cfg\nx\n')]));
    expect(readLineFile(p, '--arg-file bom')).toEqual(['\uFEFF--cfg', 'x']);
  });
});
