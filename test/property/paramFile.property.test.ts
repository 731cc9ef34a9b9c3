/**
 * Property tests for `@paramfile` expansion (spec §5) on random trees of real
 * param files: nested files are inlined in order, every line is substituted,
 * `P.expanded` holds one argument per line, cycles are a clear INPUT error and
 * a missing file names itself. Nothing else escapes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeedwrapError } from '../../src/errors.ts';
import { prepareArgs } from '../../src/wrapper/paramFile.ts';
import { tempDir } from '../helpers/tmp.ts';
import { encodeArg, representable } from './lineEncoding.ts';

type Item = { arg: string } | { ref: number; viaSubst: boolean } | { missing: true };

const MAPPINGS = [
  { key: 'n', value: 'p' },
  { key: 'pwd', value: '/exec/root' },
];

const plainArg = fc
  .oneof(
    fc.string({ unit: fc.constantFrom('a', '-', '=', ' ', '\\', '\n', '\r', 'é', '${n}', '${pwd}', '${x}'), maxLength: 16 }),
    fc.constantFrom('-Zallow-features=a', 'allow-features=b', '--cfg', 'x@y'),
    fc.string({ unit: 'binary', maxLength: 20 }),
  )
  .filter((s) => representable(s) && !s.startsWith('@'));

function item(files: number, acyclicFrom: number | undefined): fc.Arbitrary<Item> {
  const lo = acyclicFrom === undefined ? 0 : acyclicFrom + 1;
  const arbs: fc.Arbitrary<Item>[] = [plainArg.map((arg) => ({ arg }))];
  if (lo < files) arbs.push(fc.record({ ref: fc.integer({ min: lo, max: files - 1 }), viaSubst: fc.boolean() }));
  return fc.oneof(...arbs);
}

/** n files; file i holds items; with `acyclic`, file i only refers to files after it. */
function tree(acyclic: boolean) {
  return fc.integer({ min: 1, max: 6 }).chain((n) =>
    fc.record({
      files: fc.tuple(...Array.from({ length: n }, (_, i) => fc.array(item(n, acyclic ? i : undefined), { maxLength: 6 }))),
      top: fc.array(item(n, acyclic ? -1 : undefined), { minLength: 1, maxLength: 5 }),
    }),
  );
}

const sub = (s: string) => MAPPINGS.reduce((t, m) => t.split('${' + m.key + '}').join(m.value), s);
const refText = (ref: number, viaSubst: boolean) => (viaSubst ? `@\${n}${ref}.params` : `@p${ref}.params`);
const lineOf = (it: Item) => ('arg' in it ? encodeArg(it.arg) : 'ref' in it ? refText(it.ref, it.viaSubst) : '@nope.params');

/** The spec's expansion, or 'cycle'/'missing' when it cannot finish. */
function expand(files: Item[][], i: number, stack: number[]): string[] | 'cycle' | 'missing' {
  if (stack.includes(i)) return 'cycle';
  const out: string[] = [];
  for (const it of files[i]!) {
    if ('arg' in it) out.push(sub(it.arg));
    else if ('missing' in it) return 'missing';
    else {
      const inner = expand(files, it.ref, [...stack, i]);
      if (typeof inner === 'string') return inner;
      out.push(...inner);
    }
  }
  return out;
}

function check(dir: string, files: Item[][], top: Item[]): void {
  for (const [i, items] of files.entries()) writeFileSync(join(dir, `p${i}.params`), items.map((it) => lineOf(it) + '\n').join(''));
  const raw = top.map((it) => ('arg' in it ? it.arg : refText('ref' in it ? it.ref : 99, 'ref' in it && it.viaSubst)));
  // The model: each top-level @file becomes @file.expanded, in order; the first failure wins.
  const want: string[] = [];
  const expandedFiles: [string, string[]][] = [];
  let failure: 'cycle' | 'missing' | undefined;
  for (const it of top) {
    if ('arg' in it) {
      want.push(sub(it.arg));
      continue;
    }
    const ref = 'ref' in it ? it.ref : -1;
    const got = expand(files, ref, []);
    if (typeof got === 'string') {
      failure = got;
      break;
    }
    want.push(`@p${ref}.params.expanded`);
    expandedFiles.push([`p${ref}.params.expanded`, got]);
  }
  let result: ReturnType<typeof prepareArgs> | undefined;
  let err: unknown;
  try {
    result = prepareArgs(raw, MAPPINGS, (p) => resolve(dir, p));
  } catch (e) {
    err = e;
  }
  if (failure !== undefined) {
    expect(err, 'expected a clean failure').toBeInstanceOf(SeedwrapError);
    expect((err as SeedwrapError).code).toBe('INPUT');
    expect((err as Error).message).toMatch(failure === 'cycle' ? /includes itself/ : /cannot read .*nope\.params/);
    return;
  }
  expect(err).toBeUndefined();
  expect(result!.args).toEqual(want);
  for (const [name, lines] of expandedFiles) {
    expect(readFileSync(join(dir, name), 'utf8')).toBe(lines.map((l) => l + '\n').join(''));
  }
  const allLines = [...want, ...expandedFiles.flatMap(([, l]) => l)];
  expect(result!.allowsFeatures).toBe(allLines.some((l) => l.startsWith('-Zallow-features=') || l.startsWith('allow-features=')));
}

describe('prepareArgs on random param-file trees (property)', () => {
  const root = () => {
    const base = tempDir();
    let n = 0;
    return () => {
      const dir = join(base, String(n++));
      mkdirSync(dir);
      return dir;
    };
  };

  it('acyclic trees: nested files are inlined in order, every line substituted, P.expanded one argument per line', () => {
    const next = root();
    fc.assert(fc.property(tree(true), ({ files, top }) => check(next(), files, top)), { numRuns: 150 });
  });

  it('arbitrary graphs (cycles, diamonds, self-inclusion): either the expansion or a clean INPUT error, never a crash or a hang', () => {
    const next = root();
    fc.assert(fc.property(tree(false), ({ files, top }) => check(next(), files, top)), { numRuns: 150 });
  });

  it('a reference to a missing file is an INPUT error naming it', () => {
    const next = root();
    fc.assert(
      fc.property(tree(true), fc.nat(), ({ files, top }, at) => {
        const f = files[at % files.length]!;
        f.splice(at % (f.length + 1), 0, { missing: true });
        check(next(), files, top);
      }),
      { numRuns: 80 },
    );
  });

  it('a 1,000-deep chain of nested param files expands fully', () => {
    const dir = tempDir();
    const depth = 1000;
    for (let i = 0; i < depth; i++) writeFileSync(join(dir, `p${i}`), `a${i}\n@p${i + 1}\n`);
    writeFileSync(join(dir, `p${depth}`), 'end\n');
    const r = prepareArgs(['@p0'], [], (p) => resolve(dir, p));
    expect(r.args).toEqual(['@p0.expanded']);
    const lines = readFileSync(join(dir, 'p0.expanded'), 'utf8').split('\n');
    expect(lines).toHaveLength(depth + 2);
    expect(lines[depth]).toBe('end');
  });
});
