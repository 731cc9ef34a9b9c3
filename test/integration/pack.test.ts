/**
 * The npm package (`npm pack`, `npm publish`): the bundle, LICENSE, README and
 * package.json, nothing else; the single executable stays out
 * (docs/distribution.md says why). The test packs with --ignore-scripts:
 * prepack would rebuild dist/seedwrap.cjs under the other test files' feet.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { tempDir } from '../helpers/tmp.ts';
import { BUNDLE, NODE, ROOT } from '../helpers/wrapper.ts';

const npm = existsSync(join(dirname(NODE), 'npm')) ? join(dirname(NODE), 'npm') : 'npm';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function pack(dir: string): Promise<string> {
  const r = await execa(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  const [packed] = JSON.parse(r.stdout) as { filename: string }[];
  if (!packed) throw new Error(`npm pack printed no file: ${r.stdout}`);
  return join(dir, packed.filename);
}

describe('npm pack', { timeout: 120_000 }, () => {
  it('holds the bundle (executable, the same bytes), LICENSE, README and package.json, and packs byte-identically', async () => {
    const dir = tempDir();
    const tgz = await pack(dir);
    const list = await execa('tar', ['-tvzf', tgz]);
    const entries = list.stdout.split('\n').map((l) => ({ mode: l.split(/\s+/)[0], path: l.split(/\s+/).at(-1) }));
    expect(entries.map((e) => e.path).sort()).toEqual(['package/LICENSE', 'package/README.md', 'package/dist/seedwrap.cjs', 'package/package.json']);
    expect(entries.find((e) => e.path === 'package/dist/seedwrap.cjs')?.mode).toBe('-rwxr-xr-x');

    await execa('tar', ['-xzf', tgz, '-C', dir]);
    const bundle = readFileSync(join(dir, 'package/dist/seedwrap.cjs'));
    expect(sha(bundle)).toBe(sha(readFileSync(BUNDLE)));
    expect(readFileSync(join(dir, 'package/LICENSE'), 'utf8')).toMatch(/^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
    const manifest = JSON.parse(readFileSync(join(dir, 'package/package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.bin).toEqual({ seedwrap: 'dist/seedwrap.cjs' });

    // The tarball's sha256 is what a WORKSPACE pins (docs/distribution.md).
    const again = tempDir();
    expect(sha(readFileSync(await pack(again)))).toBe(sha(readFileSync(tgz)));
  });
});
