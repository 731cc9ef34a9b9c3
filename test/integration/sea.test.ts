/**
 * The single executable (`npm run build:sea`, scripts/build-sea.mjs): its
 * bytes are part of every rustc action's key, so two builds must match. What
 * it runs is covered by the suites that spawn seedwrap, with
 * SEEDWRAP_TEST_BIN pointing at it (.ci/run).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { NODE, ROOT } from '../helpers/wrapper.ts';

const canBuild = process.platform === 'linux' && process.arch === 'x64' && spawnSync('strip', ['--version']).status === 0;
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe.runIf(canBuild)('the single executable', { timeout: 180_000 }, () => {
  let dir = '';
  const build = async (name: string): Promise<string> => {
    const out = join(dir, name);
    const r = await execa(NODE, [join(ROOT, 'scripts/build-sea.mjs'), out], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    // The one line it prints: the sha256 and the file, as `sha256sum -c` reads it.
    expect(r.stdout).toMatch(new RegExp(`^${sha(out)}  ${out} \\(\\d+ bytes, Node ${process.version}\\)$`));
    return out;
  };

  // One directory for the file (helpers/tmp.ts's are removed after each test).
  let first = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seedwrap-sea-test-'));
    first = await build('a');
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two builds are byte-identical', async () => {
    const second = await build('b');
    expect(sha(second)).toBe(sha(first));
    expect(statSync(second).mode & 0o777).toBe(0o755);
  });

  it('runs without Node on PATH, from an empty environment', async () => {
    const r = await execa(first, ['--', '/bin/echo', 'ran'], { cwd: dir, env: {}, extendEnv: false, reject: false });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ran');
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await execa(first, ['--version'], { env: {}, extendEnv: false })).stdout).toBe(`seedwrap ${version.version}`);
  });

  // A known difference from the bundle's `node --` launcher, pinned so that a
  // Node that stops doing it fails here and docs/distribution.md is updated:
  // Node 20, 22 and 24 scan a single executable's own arguments for
  // `--env-file` (up to the first `--`) before any JavaScript runs.
  it('Node itself reads --env-file before seedwrap does (Node 20-24)', async () => {
    const r = await execa(first, ['--env-file', 'missing.env', '--', '/bin/true'], { cwd: dir, reject: false });
    expect(r.exitCode).toBe(9);
    expect(r.stderr).toBe(`${first}: missing.env: not found`);
    const after = await execa(first, ['--', '/bin/true', '--env-file', 'missing.env'], { cwd: dir, reject: false });
    expect(after.exitCode).toBe(0);
  });
});
