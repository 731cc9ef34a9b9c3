import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildChildEnv } from '../../src/wrapper/env.ts';
import { tempDir } from '../helpers/tmp.ts';

const base = (dir: string) => ({
  inherited: { HOME: '/home/x', P: 'in-${k}' },
  envFiles: [] as string[],
  stableStatusFile: undefined as string | undefined,
  volatileStatusFile: undefined as string | undefined,
  outDir: undefined as string | undefined,
  cwd: dir,
  mappings: [] as { key: string; value: string }[],
  resolvePath: (p: string) => resolve(dir, p),
});

describe('buildChildEnv', () => {
  it('overlays env files in order (later wins), split at the first =', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.env'), 'A=1\nB=x=y\nHOME=/a\n');
    writeFileSync(join(dir, 'b.env'), 'A=2\n');
    const env = buildChildEnv({ ...base(dir), envFiles: ['a.env', 'b.env'] });
    expect(env).toEqual({ HOME: '/a', P: 'in-${k}', A: '2', B: 'x=y' });
  });
  it('rejects an env line without =, naming the file and line', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.env'), 'JUSTKEY\n');
    expect(() => buildChildEnv({ ...base(dir), envFiles: ['bad.env'] })).toThrow(/--env-file bad.env: line "JUSTKEY" has no "="/);
  });
  it('applies stamps (stable first) then substitutions to every value, inherited included, never keys', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'stable'), 'BUILD_USER alice\nK stable-wins\n');
    writeFileSync(join(dir, 'volatile'), 'BUILD_TIMESTAMP 123 456\nK volatile\n');
    writeFileSync(join(dir, 'e.env'), 'S={BUILD_USER}@{BUILD_TIMESTAMP} {K}\n${k}=v\n');
    const env = buildChildEnv({ ...base(dir), envFiles: ['e.env'], stableStatusFile: 'stable', volatileStatusFile: 'volatile', mappings: [{ key: 'k', value: 'K' }] });
    expect(env.S).toBe('alice@123 456 stable-wins');
    expect(env.P).toBe('in-K');
    expect(env['${k}']).toBe('v');
  });
  it('a malformed or missing status file is an error naming the flag and path', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'stable'), 'NOSPACE\n');
    expect(() => buildChildEnv({ ...base(dir), stableStatusFile: 'stable' })).toThrow(/--stable-status-file stable: malformed status line "NOSPACE"/);
    expect(() => buildChildEnv({ ...base(dir), volatileStatusFile: 'gone' })).toThrow(/--volatile-status-file gone: cannot read/);
  });
  it('--out-dir sets OUT_DIR under the cwd, over env files and the inherited env', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'e.env'), 'OUT_DIR=/elsewhere\n');
    const env = buildChildEnv({ ...base(dir), inherited: { OUT_DIR: '/inherited' }, envFiles: ['e.env'], outDir: 'bazel-out/x' });
    expect(env.OUT_DIR).toBe(join(dir, 'bazel-out/x'));
  });
});
