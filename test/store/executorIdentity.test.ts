import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilerIdentity } from '../../src/executor/compilerId.ts';
import { tempDir } from '../helpers/tmp.ts';
import { haveRustc, RUSTC } from './helpers.ts';

/** A sysroot's target libraries, as names only: what the identity reads of it. */
function sysroot(dir: string, std: string): string {
  const lib = join(dir, 'lib', 'rustlib', 'x86_64-unknown-linux-gnu', 'lib');
  mkdirSync(lib, { recursive: true });
  for (const f of [`libstd-${std}.rlib`, 'libcore-0123.rlib']) writeFileSync(join(lib, f), '');
  return dir;
}

describe.runIf(haveRustc)('the executor store\'s compiler identity (real rustc -vV)', () => {
  it('does not depend on where the sysroot lies (each action has its own input root), but on its libraries and on rustc', () => {
    const tmp = tempDir();
    const a = compilerIdentity([RUSTC, `--sysroot=${sysroot(join(tmp, '1', 'root', 'sysroot'), 'aaaa')}`], tmp, {});
    const b = compilerIdentity([RUSTC, `--sysroot=${sysroot(join(tmp, '2', 'root', 'sysroot'), 'aaaa')}`], tmp, {});
    const c = compilerIdentity([RUSTC, `--sysroot=${sysroot(join(tmp, '3', 'root', 'sysroot'), 'bbbb')}`], tmp, {});
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    // The default sysroot (the directory above rustc's bin/): the real toolchain's libraries.
    expect(compilerIdentity([RUSTC], tmp, {})).not.toBe(a);
  });

  it('a program that is no rustc gives a reason, not an identity', () => {
    expect(compilerIdentity(['/bin/false'], tempDir(), {})).toEqual({ reason: expect.stringMatching(/^\/bin\/false -vV failed/) });
  });
});
