/**
 * attack2: more ways to put code at `<bundle>.v8cache` than
 * test/integration/v8cache.test.ts tries. Same "trojan" technique: a cache of
 * same-length code for the `seed` command's chunk that writes a marker; the
 * marker appears only when the loader trusts the file.
 */
import { chmodSync, chownSync, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { tempDir } from '../helpers/tmp.ts';
import { BUNDLE, NODE, ROOT, TEST_BIN } from '../helpers/wrapper.ts';

const SEED_COMMAND = 2;
const ROOT_USER = process.getuid?.() === 0;
/** `unshare --user --map-root-user` works here (not in every container). */
const USERNS = ROOT_USER && (() => {
  try {
    execFileSync('unshare', ['--user', '--map-root-user', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function chunk(bundle: string, n: number): { code: string; id: string } {
  const line = readFileSync(bundle, 'latin1').split('\n').find((l) => l.startsWith(`//chunk ${n} "`))!;
  return { code: JSON.parse(line.slice(`//chunk ${n} `.length, -17)) as string, id: line.slice(-16) };
}

let trojanMemo: Buffer | undefined;
function trojan(): Buffer {
  if (trojanMemo) return trojanMemo;
  const { code } = chunk(BUNDLE, SEED_COMMAND);
  const body = "require('node:fs').writeFileSync(process.env.SEEDWRAP_TEST_TROJAN, 'ran');";
  const padded = `${body}/*${' '.repeat(code.length - body.length - 4)}*/`;
  const script = `const vm = require('node:vm');
const src = '(function (module, exports, require, __seedwrapChunk) {' + process.argv[1] + '\\n})';
process.stdout.write(new vm.Script(src, { filename: 'seedwrap-chunk-${SEED_COMMAND}' }).createCachedData().toString('base64'));`;
  trojanMemo = Buffer.from(execFileSync(NODE, ['-e', script, padded], { maxBuffer: 64 << 20 }).toString(), 'base64');
  return trojanMemo;
}

function cacheFile(entries: [string, Buffer][], pad = 0): Buffer {
  const head = ['seedwrap-v8cache 1', ...entries.map(([id, data]) => `${id} ${data.length}`)].join('\n') + '\n\n';
  return Buffer.concat([Buffer.from(head), ...entries.map(([, d]) => d), Buffer.alloc(pad)]);
}
const trojanFile = (pad = 0) => cacheFile([[chunk(BUNDLE, SEED_COMMAND).id, trojan()]], pad);

/** A bundle copy in `dir/bin` (mode 0755 dirs), a source tree, and a runner, optionally as another user. */
function setUp(binMode = 0o755) {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  chmodSync(bin, binMode);
  const bundle = join(bin, 'seedwrap.cjs');
  copyFileSync(BUNDLE, bundle);
  chmodSync(bundle, 0o755);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'a'), 'aaa');
  const out = join(dir, 'out');
  mkdirSync(out);
  chmodSync(out, 0o777);
  const marker = join(out, 'trojan-ran');
  let k = 0;
  const run = async (opts: { as?: number; path?: string } = {}) => {
    const argv = [NODE, '--', opts.path ?? bundle, 'seed', src, join(out, `dest-${k++}`), '--json'];
    const cmd = opts.as === undefined ? argv : ['setpriv', `--reuid=${opts.as}`, `--regid=${opts.as}`, '--clear-groups', ...argv];
    const r = await execa(cmd[0]!, cmd.slice(1), { cwd: dir, reject: false, env: { SEEDWRAP_TEST_TROJAN: marker } });
    return { exitCode: r.exitCode, stderr: r.stderr, trojan: existsSync(marker) };
  };
  return { dir, bin, bundle, cache: `${bundle}.v8cache`, run };
}

describe.skipIf(TEST_BIN)('attack2: the V8 code cache loader', () => {
  it('sanity: the trojan runs from a trusted cache (root-owned bundle and cache, 0755 directory)', async () => {
    const t = setUp();
    writeFileSync(t.cache, trojanFile());
    chmodSync(t.cache, 0o644);
    expect((await t.run()).trojan).toBe(true);
  });

  it('a cache planted in a world-writable sticky directory (as /tmp) is not trusted, even of the bundle\'s owner: there anyone may add the name (a hard link)', async () => {
    const t = setUp(0o1777);
    const elsewhere = join(t.dir, 'root-owned-foreign-content');
    writeFileSync(elsewhere, trojanFile());
    chmodSync(elsewhere, 0o644);
    linkSync(elsewhere, t.cache); // what any user may do with fs.protected_hardlinks=0
    const r = await t.run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.trojan).toBe(false);
  });

  it('a group-writable directory without the sticky bit (a umask-002 dist/) keeps its cache: whoever may write there may replace the bundle too', async () => {
    const t = setUp(0o775);
    writeFileSync(t.cache, trojanFile());
    chmodSync(t.cache, 0o644);
    expect((await t.run()).trojan).toBe(true);
  });

  it('a cache beside a symlink to the bundle (a chain of two, in a directory an attacker owns) is not read; the real path\'s sibling is', async () => {
    const t = setUp();
    const evil = join(t.dir, 'evil');
    mkdirSync(evil);
    symlinkSync(join(t.dir, 'l2'), join(evil, 'seedwrap.cjs'));
    symlinkSync(t.bundle, join(t.dir, 'l2'));
    writeFileSync(join(evil, 'seedwrap.cjs.v8cache'), trojanFile());
    chmodSync(join(evil, 'seedwrap.cjs.v8cache'), 0o644);
    const r = await t.run({ path: join(evil, 'seedwrap.cjs') });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.trojan).toBe(false);
    writeFileSync(t.cache, trojanFile());
    chmodSync(t.cache, 0o644);
    expect((await t.run({ path: join(evil, 'seedwrap.cjs') })).trojan).toBe(true);
  });

  it.runIf(ROOT_USER)('a character device there (mknod c 1 3 in the temp dir) changes nothing', async () => {
    const t = setUp();
    execFileSync('mknod', [t.cache, 'c', '1', '3']);
    const r = await t.run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.trojan).toBe(false);
  });

  it('a cache rewritten in place while actions start (truncate, then 4 KiB writes; two caches of one length, entries in other orders, alternating) never breaks one', async () => {
    const t = setUp();
    const a = readFileSync(`${BUNDLE}.v8cache`);
    const end = a.indexOf('\n\n') + 2;
    // The same entries in reverse order: as long, every id's data at another offset.
    const lines = a.subarray(0, end - 2).toString('latin1').split('\n');
    const entries: [string, Buffer][] = [];
    let off = end;
    for (const l of lines.slice(1)) {
      const [id, n] = l.split(' ') as [string, string];
      entries.push([id, a.subarray(off, off += Number(n))]);
    }
    const b = cacheFile(entries.reverse());
    expect(b.length).toBe(a.length);
    expect(b.equals(a)).toBe(false);
    writeFileSync(t.cache, a);
    chmodSync(t.cache, 0o644);
    writeFileSync(join(t.dir, 'a'), a);
    writeFileSync(join(t.dir, 'b'), b);
    const writer = execa(NODE, ['-e', `
      const fs = require('node:fs');
      const [a, b, c] = process.argv.slice(1).map((p, i) => i < 2 ? fs.readFileSync(p) : p);
      for (;;) for (const x of [a, b]) { const fd = fs.openSync(c, 'w'); for (let o = 0; o < x.length; o += 4096) fs.writeSync(fd, x, o, Math.min(4096, x.length - o)); fs.closeSync(fd); }
    `, join(t.dir, 'a'), join(t.dir, 'b'), t.cache], { reject: false });
    try {
      for (let i = 0; i < 30; i++) {
        const r = await execa(NODE, ['--', t.bundle, '--', '/bin/echo', 'ok'], { cwd: t.dir, reject: false, timeout: 20_000 });
        expect(r.exitCode, r.stderr.slice(0, 200)).toBe(0);
        expect(r.stdout).toBe('ok');
      }
    } finally {
      writer.kill();
      await writer;
    }
  });

  it('16 MiB + 1 is refused, 16 MiB is read', async () => {
    const t = setUp();
    const base = trojanFile();
    writeFileSync(t.cache, trojanFile(16 * 1024 * 1024 + 1 - base.length));
    chmodSync(t.cache, 0o644);
    let r = await t.run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.trojan).toBe(false);
    writeFileSync(t.cache, trojanFile(16 * 1024 * 1024 - base.length));
    r = await t.run();
    expect(r.trojan).toBe(true);
  });

  it('malformed headers change nothing and print nothing', async () => {
    const id = chunk(BUNDLE, SEED_COMMAND).id;
    const tr = trojan();
    const bad: (string | Buffer)[] = [
      `seedwrap-v8cache 1\n${id} 99999999999999999999999\n\n`,
      `seedwrap-v8cache 1\n${id} -1\n\n`,
      `seedwrap-v8cache 1\n${id} NaN\n\n`,
      `seedwrap-v8cache 1\n${id}\n\n`,
      `seedwrap-v8cache 1\n${id} ${tr.length}\n`,
      `seedwrap-v8cache 1\r\n${id} ${tr.length}\r\n\r\n`,
      `seedwrap-v8cache 2\n${id} ${tr.length}\n\n`,
      `seedwrap-v8cache 1\n${id} ${tr.length}\n${'x'.repeat(5000)}\n\n`,
      `seedwrap-v8cache 1\n${id.toUpperCase()} ${tr.length}\n\n`,
      Buffer.concat([Buffer.from(`seedwrap-v8cache 1\n${id}\u00e9 ${tr.length}\n\n`, 'utf8')]),
      `seedwrap-v8cache 1\n${'f'.repeat(4096)} 1\n\n`,
      '',
      '\n\n',
    ];
    for (const head of bad) {
      const t = setUp();
      writeFileSync(t.cache, Buffer.concat([Buffer.from(head), tr]));
      chmodSync(t.cache, 0o644);
      const r = await t.run();
      expect(r.exitCode, `${JSON.stringify(head.toString().slice(0, 60))}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.trojan, JSON.stringify(head.toString().slice(0, 60))).toBe(false);
    }
  });

  it.runIf(ROOT_USER)('run as another user (nobody): the root-owned cache beside a root-owned bundle is used, nobody\'s own is not', async () => {
    const t = setUp();
    writeFileSync(t.cache, trojanFile());
    chmodSync(t.cache, 0o644);
    let r = await t.run({ as: 65534 });
    expect(r.trojan, r.stderr).toBe(true);
    const u = setUp();
    writeFileSync(u.cache, trojanFile());
    chmodSync(u.cache, 0o644);
    chownSync(u.cache, 65534, 65534);
    r = await u.run({ as: 65534 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.trojan).toBe(false);
  });

  it.runIf(USERNS)('in a user namespace (as linux-sandbox makes) every unmapped owner reads as the overflow uid: another user\'s cache in a sticky directory beside a bundle of a third user is still refused', async () => {
    const t = setUp(0o1777);
    chownSync(t.bundle, 1002, 1002);
    writeFileSync(t.cache, trojanFile());
    chmodSync(t.cache, 0o644);
    chownSync(t.cache, 1001, 1001); // any local user may create it in a sticky directory
    const marker = join(t.dir, 'out', 'trojan-ran');
    const r = await execa('unshare', ['--user', '--map-root-user', NODE, '-e', `
      const fs = require('node:fs');
      process.stdout.write(JSON.stringify([fs.statSync(process.argv[1]).uid, fs.statSync(process.argv[1] + '.v8cache').uid]));
    `, t.bundle], { reject: false });
    expect(r.stdout, r.stderr).toBe('[65534,65534]');
    const run = await execa('unshare', ['--user', '--map-root-user', NODE, '--', t.bundle, 'seed', join(t.dir, 'src'), join(t.dir, 'out', 'dest'), '--json'], { cwd: t.dir, reject: false, env: { SEEDWRAP_TEST_TROJAN: marker } });
    expect(existsSync(marker), run.stderr).toBe(false);
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it.runIf(ROOT_USER)('a bundle of a non-root owner: only that owner\'s cache counts, root\'s is refused', async () => {
    const t = setUp();
    chownSync(t.bundle, 65534, 65534);
    writeFileSync(t.cache, trojanFile());
    chmodSync(t.cache, 0o644);
    let r = await t.run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.trojan).toBe(false);
    chownSync(t.cache, 65534, 65534);
    r = await t.run();
    expect(r.trojan).toBe(true);
  });
});

describe.skipIf(TEST_BIN)('attack2: a damaged cache of the right Node and ids', () => {
  // Known gap, not fixed: V8 release builds neither write nor check a
  // checksum of a code cache (--verify-snapshot-checksum is for debug
  // builds), so damage past V8's header (here the second half of each entry
  // zeroed, as a torn copy or a zero-filled block after a crash leaves it)
  // is deserialized: SIGTRAP/SIGSEGV, a hang, or wrong code running. An
  // integrity check in the loader costs 0.2 ms (sampled) to 1.6 ms (every
  // word) of CPU per action of the 5-7 ms the cache saves (attack2, measured).
  // `it.fails`: it passes while the gap is there and tells when it is closed.
  it.fails('falls back to compiling, silently', async () => {
    const t = setUp();
    // A cache made by the Node running this test (dist's was made by the Node
    // that ran the build: CI runs this file on Node 22 and 24 too, where V8
    // rejects it whole and the gap cannot show).
    const built = join(tempDir(), 'seedwrap.cjs');
    const b = await execa(NODE, [join(ROOT, 'scripts/build.mjs'), built], { reject: false });
    expect(b.exitCode, b.stderr).toBe(0);
    expect(readFileSync(built).equals(readFileSync(t.bundle))).toBe(true);
    const buf = Buffer.from(readFileSync(`${built}.v8cache`));
    const end = buf.indexOf('\n\n') + 2;
    let off = end;
    for (const line of buf.toString('latin1', 0, end - 2).split('\n').slice(1)) {
      const n = Number(line.split(' ')[1]);
      buf.fill(0, off + Math.floor(n / 2), off + n);
      off += n;
    }
    writeFileSync(t.cache, buf);
    chmodSync(t.cache, 0o644);
    const r = await execa(NODE, ['--', t.bundle, '--', '/bin/echo', 'ok'], { cwd: t.dir, reject: false, timeout: 20_000 });
    expect(r.exitCode, r.stderr.slice(0, 200)).toBe(0);
    expect(r.stdout).toBe('ok');
  });
});

describe.skipIf(TEST_BIN)('attack2: the single executable', () => {
  it('never reads a cache beside it, even a trusted one with the trojan under the chunk\'s id', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const sea = join(dir, 'seedwrap');
    const b = await execa(NODE, [join(ROOT, 'scripts/build-sea.mjs'), sea], { reject: false });
    expect(b.exitCode, b.stderr).toBe(0);
    writeFileSync(`${sea}.v8cache`, trojanFile());
    chmodSync(`${sea}.v8cache`, 0o644);
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'a'), 'a');
    const marker = join(dir, 'trojan-ran');
    const r = await execa(sea, ['seed', join(dir, 'src'), join(dir, 'dest'), '--json'], { cwd: dir, reject: false, env: { SEEDWRAP_TEST_TROJAN: marker } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
  }, 180_000);
});

describe.skipIf(TEST_BIN)('attack2: the build when the code cache cannot be trained', () => {
  it('an unusable TMPDIR: the build still succeeds with a working bundle, no cache, and one line saying so', async () => {
    const dir = tempDir();
    const out = join(dir, 'o', 'seedwrap.cjs');
    const r = await execa(NODE, [join(ROOT, 'scripts/build.mjs'), out], { reject: false, env: { TMPDIR: join(dir, 'missing') } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(out)).toEqual(readFileSync(BUNDLE));
    expect(existsSync(`${out}.v8cache`)).toBe(false);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^build: no V8 code cache/);
    const v = await execa(NODE, ['--', out, '--', '/bin/echo', 'ok'], { cwd: dir, reject: false });
    expect(v.stdout).toBe('ok');
  });
});
