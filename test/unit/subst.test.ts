import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { upstreamOutputBase } from '../../src/bazelLayout.ts';
import { applySubsts, parseSubsts } from '../../src/wrapper/subst.ts';
import { tempDir } from '../helpers/tmp.ts';

describe('parseSubsts', () => {
  it('splits at the first =, allows an empty key, rejects no =', () => {
    expect(parseSubsts(['a=b=c', '=x'], '/w', undefined)).toEqual([{ key: 'a', value: 'b=c' }, { key: '', value: 'x' }]);
    expect(() => parseSubsts(['novalue'], '/w', undefined)).toThrow(/--subst "novalue" has no "="/);
  });
  it('${pwd} as a whole value is the working directory; inside a value it is literal', () => {
    expect(parseSubsts(['pwd=${pwd}', 'x=a${pwd}'], '/w/ex', undefined)).toEqual([{ key: 'pwd', value: '/w/ex' }, { key: 'x', value: 'a${pwd}' }]);
  });
  it('--out-dir adds out_dir after the user mappings', () => {
    expect(parseSubsts(['a=1'], '/w', 'o/d').at(-1)).toEqual({ key: 'out_dir', value: 'o/d' });
  });
  it('${output_base} and ${exec_root} follow Bazel\'s execroot layout through ./external', () => {
    const base = tempDir();
    const execroot = join(base, 'execroot', 'ws');
    mkdirSync(execroot, { recursive: true });
    mkdirSync(join(base, 'external'));
    symlinkSync(join(base, 'external'), join(execroot, 'external'));
    const m = parseSubsts(['ob=${output_base}', 'er=${exec_root}'], execroot, undefined);
    expect(m).toEqual([{ key: 'ob', value: base }, { key: 'er', value: join(base, 'execroot', 'ws') }]);
  });
  it('without ./external the output base is the canonical cwd\'s grandparent', () => {
    const base = tempDir();
    const execroot = join(base, 'execroot', 'ws');
    mkdirSync(execroot, { recursive: true });
    expect(upstreamOutputBase(execroot)).toBe(base);
  });
});

describe('applySubsts', () => {
  it('replaces every occurrence, mapping by mapping, in flag order', () => {
    const m = [{ key: 'a', value: '${b}/x' }, { key: 'b', value: 'B' }];
    expect(applySubsts('${a}:${a}:${b}', m)).toBe('B/x:B/x:B');
  });
  it('for a duplicate key the first mapping wins', () => {
    expect(applySubsts('${k}', [{ key: 'k', value: '1' }, { key: 'k', value: '2' }])).toBe('1');
  });
  it('leaves unknown keys alone', () => {
    expect(applySubsts('${nope} $x {y}', [{ key: 'a', value: 'b' }])).toBe('${nope} $x {y}');
  });
});
