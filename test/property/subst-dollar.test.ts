/**
 * Regression test, found by test/property/subst.property.test.ts.
 *
 * Was: substitution values were used as String.prototype.replaceAll
 * *replacement patterns*, so `$$`, `$&`, `` $` `` and `$'` inside a value are
 * rewritten instead of inserted literally (upstream's Rust `str::replace` is
 * literal):
 *   - src/subst.ts:54 (now src/wrapper/subst.ts)  `text.replaceAll('${' + key + '}', value)`   (--subst, all argv/param/env values)
 *   - src/env.ts:43    `env[k]!.replaceAll(from, value)`            (workspace status stamps)
 * Fix: pass a replacer function (`() => value`) or use split/join.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildChildEnv } from '../../src/wrapper/env.ts';
import { applySubsts } from '../../src/wrapper/subst.ts';
import { tempDir } from '../helpers/tmp.ts';

const VALUES = ['a$&b', "x$'y", 'x$`y', 'C:$$dir', '$$', '$&$&'];

describe('substitution values are inserted literally', () => {
  it.each(VALUES)('--subst k=%s', (value) => {
    expect(applySubsts('<${k}>', [{ key: 'k', value }])).toBe(`<${value}>`);
  });
  it.each(VALUES)('stamp value %s', (value) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'stable'), `KEY ${value}\n`);
    const env = buildChildEnv({
      inherited: { V: '<{KEY}>' },
      envFiles: [],
      stableStatusFile: 'stable',
      volatileStatusFile: undefined,
      outDir: undefined,
      cwd: dir,
      mappings: [],
      resolvePath: (p) => resolve(dir, p),
    });
    expect(env.V).toBe(`<${value}>`);
  });
});
