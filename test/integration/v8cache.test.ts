/**
 * The V8 code cache beside the bundle (`<bundle>.v8cache`, scripts/build.mjs):
 * a code cache is code, so the loader uses it only when it is a regular file
 * (never through a link) of the bundle's owner that neither group nor others
 * may write, and only under the id of the chunk it was made for; anything
 * else, and a cache V8 rejects, means the chunk is compiled as without it.
 *
 * V8 checks of the source only its length, so a cache made from other code
 * of the same length runs that code: these tests plant such a "trojan" for
 * the `seed` command's chunk, whose code writes a marker file. The marker
 * appears only when the loader trusts the file (which proves it is read at
 * all); in every refused case the action runs as usual.
 */
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { tempDir } from '../helpers/tmp.ts';
import { BUNDLE, NODE, TEST_BIN } from '../helpers/wrapper.ts';

const SEED_COMMAND = 2; // src/seed/command.ts in build.mjs's LAZY

/** The chunk's code and id, from its `//chunk N "<JSON>" <id>` line. */
function chunk(bundle: string, n: number): { code: string; id: string } {
  const line = readFileSync(bundle, 'latin1').split('\n').find((l) => l.startsWith(`//chunk ${n} "`))!;
  return { code: JSON.parse(line.slice(`//chunk ${n} `.length, -17)) as string, id: line.slice(-16) };
}

/** V8's cache of code as long as chunk `n`'s that writes $SEEDWRAP_TEST_TROJAN, made by the Node that runs the bundle. */
function trojanCache(bundle: string, n: number): Buffer {
  const { code } = chunk(bundle, n);
  const body = "require('node:fs').writeFileSync(process.env.SEEDWRAP_TEST_TROJAN, 'ran');";
  const padded = `${body}/*${' '.repeat(code.length - body.length - 4)}*/`;
  expect(padded.length).toBe(code.length);
  const script = `const vm = require('node:vm');
const src = '(function (module, exports, require, __seedwrapChunk) {' + process.argv[1] + '\\n})';
process.stdout.write(new vm.Script(src, { filename: 'seedwrap-chunk-${n}' }).createCachedData().toString('base64'));`;
  return Buffer.from(execFileSync(NODE, ['-e', script, padded], { maxBuffer: 64 << 20 }).toString(), 'base64');
}

function cacheFile(entries: [string, Buffer][]): Buffer {
  const head = ['seedwrap-v8cache 1', ...entries.map(([id, data]) => `${id} ${data.length}`)].join('\n') + '\n\n';
  return Buffer.concat([Buffer.from(head), ...entries.map(([, d]) => d)]);
}

function setUp(): { dir: string; bundle: string; cache: string; run: () => Promise<{ exitCode?: number; stderr: string; trojan: boolean }> } {
  const dir = tempDir();
  mkdirSync(join(dir, 'bin'));
  const bundle = join(dir, 'bin', 'seedwrap.cjs');
  copyFileSync(BUNDLE, bundle);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'a'), 'aaa');
  const marker = join(dir, 'trojan-ran');
  let k = 0;
  const run = async () => {
    const r = await execa(NODE, ['--', bundle, 'seed', src, join(dir, `dest-${k++}`), '--json'], { cwd: dir, reject: false, env: { SEEDWRAP_TEST_TROJAN: marker } });
    return { exitCode: r.exitCode, stderr: r.stderr, trojan: existsSync(marker) };
  };
  return { dir, bundle, cache: `${bundle}.v8cache`, run };
}

describe.skipIf(TEST_BIN)('the V8 code cache beside the bundle', () => {
  it('the build leaves one, with entries for the store\'s and pipelining\'s chunks and the main program (chunk 5)', () => {
    const text = readFileSync(`${BUNDLE}.v8cache`).subarray(0, 200).toString('latin1');
    const lines = text.slice(0, text.indexOf('\n\n')).split('\n');
    expect(lines[0]).toBe('seedwrap-v8cache 1');
    const ids = lines.slice(1).map((l) => l.split(' ')[0]);
    expect(ids).toContain(chunk(BUNDLE, 3).id);
    expect(ids).toContain(chunk(BUNDLE, 4).id);
    expect(ids).toContain(chunk(BUNDLE, 5).id);
  });

  it('a trusted cache is used: the trojan made under the chunk\'s id runs (so the checks below are what keeps it out)', async () => {
    const t = setUp();
    writeFileSync(t.cache, cacheFile([[chunk(t.bundle, SEED_COMMAND).id, trojanCache(t.bundle, SEED_COMMAND)]]));
    chmodSync(t.cache, 0o644);
    expect((await t.run()).trojan).toBe(true);
  });

  it('is ignored under another chunk\'s id (a cache left from another build)', async () => {
    const t = setUp();
    writeFileSync(t.cache, cacheFile([['0123456789abcdef', trojanCache(t.bundle, SEED_COMMAND)]]));
    chmodSync(t.cache, 0o644);
    const r = await t.run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.trojan).toBe(false);
  });

  it('is ignored when it is a symbolic link, even to a trusted file', async () => {
    const t = setUp();
    const real = join(t.dir, 'real.v8cache');
    writeFileSync(real, cacheFile([[chunk(t.bundle, SEED_COMMAND).id, trojanCache(t.bundle, SEED_COMMAND)]]));
    chmodSync(real, 0o644);
    symlinkSync(real, t.cache);
    const r = await t.run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.trojan).toBe(false);
  });

  it.each([0o664, 0o646, 0o666])('is ignored when group or others may write it (mode %o)', async (mode) => {
    const t = setUp();
    writeFileSync(t.cache, cacheFile([[chunk(t.bundle, SEED_COMMAND).id, trojanCache(t.bundle, SEED_COMMAND)]]));
    chmodSync(t.cache, mode);
    const r = await t.run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.trojan).toBe(false);
  });

  it.runIf(process.getuid?.() === 0)('is ignored when another user owns it', async () => {
    const t = setUp();
    writeFileSync(t.cache, cacheFile([[chunk(t.bundle, SEED_COMMAND).id, trojanCache(t.bundle, SEED_COMMAND)]]));
    chmodSync(t.cache, 0o644);
    chownSync(t.cache, 65534, 65534);
    const r = await t.run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.trojan).toBe(false);
  });

  it('one V8 rejects (another Node, or a damaged header) falls back to compiling, silently', async () => {
    const t = setUp();
    writeFileSync(t.cache, cacheFile([[chunk(t.bundle, SEED_COMMAND).id, Buffer.alloc(4096, 7)]]));
    chmodSync(t.cache, 0o644);
    const r = await t.run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse((await execa(NODE, ['--', t.bundle, 'seed', join(t.dir, 'src'), join(t.dir, 'again'), '--json'], { reject: false })).stdout)).toMatchObject({ outcome: 'seeded' });
  });

  it('a truncated or malformed file, a FIFO or a directory there changes nothing', async () => {
    for (const make of [
      (p: string) => writeFileSync(p, `seedwrap-v8cache 1\n${'0'.repeat(16)} 999999\n\nxx`),
      (p: string) => writeFileSync(p, 'garbage'),
      (p: string) => execFileSync('mkfifo', [p]),
      (p: string) => mkdirSync(p),
    ]) {
      const t = setUp();
      make(t.cache);
      const r = await t.run();
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.trojan).toBe(false);
    }
  });
});
