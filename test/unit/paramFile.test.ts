import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareArgs } from '../../src/wrapper/paramFile.ts';
import { tempDir } from '../helpers/tmp.ts';

describe('prepareArgs', () => {
  it('substitutes args, expands @file to @file.expanded with nested files inlined', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'outer.params'), '--a\n${p}/x\n@inner.params\n--z\n');
    writeFileSync(join(dir, 'inner.params'), 'in1\nin${p}\n');
    const m = [{ key: 'p', value: 'P' }];
    const r = prepareArgs(['rustc', '${p}', '@outer.params'], m, (p) => resolve(dir, p));
    expect(r.args).toEqual(['rustc', 'P', '@outer.params.expanded']);
    expect(readFileSync(join(dir, 'outer.params.expanded'), 'utf8')).toBe('--a\nP/x\nin1\ninP\n--z\n');
  });
  it('substitutes the param file path itself, even for the program', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'real.params'), 'x\n');
    const r = prepareArgs(['@${d}.params'], [{ key: 'd', value: 'real' }], (p) => resolve(dir, p));
    expect(r.args).toEqual(['@real.params.expanded']);
  });
  it('reports -Zallow-features= found in args or param files', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f.params'), '-Z\nallow-features=foo\n');
    expect(prepareArgs(['rustc', '@f.params'], [], (p) => resolve(dir, p)).allowsFeatures).toBe(true);
    expect(prepareArgs(['rustc', '-Zallow-features=x'], [], (p) => resolve(dir, p)).allowsFeatures).toBe(true);
    expect(prepareArgs(['rustc', '-Zother'], [], (p) => resolve(dir, p)).allowsFeatures).toBe(false);
  });
  it('a missing param file names it; a self-including one is a clear error', () => {
    const dir = tempDir();
    expect(() => prepareArgs(['@missing'], [], (p) => resolve(dir, p))).toThrow(/param file @missing: cannot read/);
    writeFileSync(join(dir, 'loop'), '@loop\n');
    expect(() => prepareArgs(['@loop'], [], (p) => resolve(dir, p))).toThrow(/param file loop includes itself/);
  });
});

describe('param file nesting', () => {
  it('a chain deeper than the limit is one clear error, not a stack overflow', () => {
    const dir = tempDir();
    const depth = 4_200; // past the 4,096 cap; without the explicit stack ~20,000 overflowed
    for (let i = 0; i < depth; i++) writeFileSync(join(dir, `p${i}`), `@p${i + 1}\n`);
    writeFileSync(join(dir, `p${depth}`), 'leaf\n');
    expect(() => prepareArgs(['@p0'], [], (p) => resolve(dir, p))).toThrow(/nested more than 4096 param files deep/);
  });
  it('a chain within the limit is inlined', () => {
    const dir = tempDir();
    for (let i = 0; i < 100; i++) writeFileSync(join(dir, `p${i}`), `a${i}\n@p${i + 1}\n`);
    writeFileSync(join(dir, 'p100'), 'leaf\n');
    const r = prepareArgs(['@p0'], [], (p) => resolve(dir, p));
    expect(readFileSync(join(dir, 'p0.expanded'), 'utf8').split('\n')).toHaveLength(102);
    expect(r.args).toEqual(['@p0.expanded']);
  });
});
