// Bundles seedwrap into one self-contained CommonJS file, dist/seedwrap.cjs.
//
// The file is an input of every rustc action (it is the action's executable),
// so its bytes must not change between two clean builds: no timestamps, no
// absolute paths, no source maps, a pinned esbuild. CommonJS because Node
// loads it faster than an ES module (see docs/dependencies.md).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// An optional argument writes elsewhere (the reproducibility test builds twice).
const outfile = process.argv[2] ?? join(root, 'dist', 'seedwrap.cjs');
mkdirSync(dirname(outfile), { recursive: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20.12',
  minify: true,
  legalComments: 'none',
  sourcemap: false,
  charset: 'ascii', // one non-ASCII character made Node read the whole file as a two-byte string
  logLevel: 'warning',
  // `seedwrap --version`: a constant from package.json, so the bytes depend on
  // the commit only.
  define: { SEEDWRAP_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) },
};

// Modules that only some runs need (the worker, the seeding engine, the
// `seed` command with commander). V8 pre-parses every function of a script it
// loads, so merely carrying them cost each one-shot action ~3 ms of CPU
// (docs/benchmarks-startup.md). Each is bundled on its own and stored at the
// end of the file as a line comment, `//chunk N "<its code as JSON>"`, read
// back from the file and compiled only when its dynamic import() runs. A
// comment, not a string literal: V8 still scans every byte of the file, but
// skips 117 KiB of comment in 0.5 ms of CPU where the same chunks as string
// literals took 1.0 ms (bench/startup/chunk-forms.mjs, 2026-12-01, load 25).
// The chunk number is its place in LAZY, so the output does not depend on the
// order esbuild loads them.
const LAZY = ['src/worker/index.ts', 'src/seed/index.ts', 'src/seed/command.ts', 'src/store/index.ts', 'src/pipeline/index.ts'];
const chunkCode = new Map();

// The loader, one copy in the main file; a chunk that loads another one gets
// it as the parameter `__seedwrapChunk` (a chunk runs in new Function's scope,
// where __filename is not defined). Inside the single executable
// (scripts/build-sea.mjs) __filename is the 87 MB executable: reading it took
// 100-200 ms and 220 MB, so there each chunk is a SEA asset `chunk-N` instead.
// The file is read once per process: a store action loads two chunks (the
// store's and pipelining's), and each read decoded the whole bundle again.
//
// V8 code cache (issue 17 item 4): each chunk line ends with an id, the first
// 16 hex digits of the SHA-256 of the chunk's code. The build may leave
// `<bundle>.v8cache` beside the bundle (see trainCodeCache below): V8's
// compiled code of the chunks, one entry per id. V8 checks its own version
// and flags but of the source only its length, so an entry is used only
// under its chunk's id. A code cache is code: whoever writes it runs code in
// every action. So nothing ever writes it at run time, and it is read only
// when it is a regular file (opened without following a link, O_NONBLOCK so
// a FIFO cannot block), of the bundle's owner, not writable by group or
// others, at most 16 MiB, and not in a sticky directory others may write
// (/tmp: there anyone may add the name, but not replace the bundle: a hard
// link to a file of the bundle's owner with other content where
// fs.protected_hardlinks is 0, or in a user namespace, where every unmapped
// owner reads as 65534, any user's own file; whoever may write a directory
// without the sticky bit may replace the bundle itself); anything else, a
// missing file (a remote executor), a file V8 rejects (another Node) or any
// error means today's compile with new Function, silently. V8 does not detect
// a damaged payload (no checksum in release builds): that one crashes. An empty entry compiles through node:vm without
// cache (the build's training run records those).
const LOADER = `const fs = require('node:fs');
let text, cache;
function source(n) {
  const sea = require('node:sea');
  if (sea.isSea()) return { code: sea.getAsset('chunk-' + n, 'utf8') };
  text ??= fs.readFileSync(__filename, 'latin1');
  const tag = '\\n//chunk ' + n + ' ';
  const at = text.lastIndexOf(tag) + tag.length;
  const line = text.slice(at, text.indexOf('\\n', at));
  return { code: JSON.parse(line.slice(0, -17)), id: line.slice(-16) };
}
function readCache() {
  const map = new Map();
  let fd;
  try {
    const c = fs.constants;
    const dm = fs.statSync(__dirname).mode;
    if ((dm & 0o1000) !== 0 && (dm & 0o022) !== 0) return map;
    fd = fs.openSync(__filename + '.v8cache', c.O_RDONLY | c.O_NOFOLLOW | c.O_NONBLOCK);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== fs.statSync(__filename).uid || (st.mode & 0o022) !== 0 || st.size > 16777216) return map;
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    for (let r; got < buf.length && (r = fs.readSync(fd, buf, got, buf.length - got, got)) > 0; ) got += r;
    const head = buf.toString('latin1', 0, Math.min(got, 4096));
    const end = head.indexOf('\\n\\n');
    const lines = head.slice(0, end).split('\\n');
    if (end < 0 || lines[0] !== 'seedwrap-v8cache 1') return map;
    let off = end + 2;
    for (const l of lines.slice(1)) {
      const [id, len] = l.split(' ');
      const size = Number(len);
      if (!/^[0-9a-f]{16}$/.test(id) || !(size >= 0) || off + size > got) return new Map();
      map.set(id, buf.subarray(off, off += size));
    }
  } catch {
    return map;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return map;
}
function compile(n) {
  const { code, id } = source(n);
  if (id !== undefined) {
    cache ??= readCache();
    const data = cache.get(id);
    if (data) {
      try {
        const vm = require('node:vm');
        const script = new vm.Script('(function (module, exports, require, __seedwrapChunk) {' + code + '\\n})', { filename: 'seedwrap-chunk-' + n, cachedData: data.length > 0 ? data : undefined });
        return script.runInThisContext();
      } catch {}
    }
  }
  return new Function('module', 'exports', 'require', '__seedwrapChunk', code);
}
function load(n) {
  const mod = { exports: {} };
  compile(n)(mod, mod.exports, require, load);
  return mod.exports;
}
module.exports = load;
`;

// The first two lines start Node as `node -- FILE ARGS`. Node 20, 22 and 24
// scan a script's own arguments for `--env-file` before any JavaScript runs
// (`#!/usr/bin/env node`, i.e. `node FILE ARGS`): rules_rust's `--env-file`
// for build scripts was read by Node, a `NODE_OPTIONS=--require` line in it
// ran code inside seedwrap, a missing file made Node exit 9. After `--` Node
// reads no options. `#!/usr/bin/env -S node --` would do the same without a
// shell, but `-S` is GNU/BSD only (BusyBox and toybox env lack it). To sh the
// second line runs `:` and execs Node (same pid, so Bazel's signals reach it);
// to JavaScript it is a string and a comment, also under `node FILE`.
const LAUNCHER = '#!/bin/sh\n":" //; exec node -- "$0" "$@"';

function lazyChunks(inChunk) {
  return {
    name: 'lazy-chunks',
    setup(b) {
      b.onResolve({ filter: /^seedwrap:chunk-loader$/ }, () => ({ path: 'loader', namespace: 'chunk-loader' }));
      b.onLoad({ filter: /.*/, namespace: 'chunk-loader' }, () => ({ loader: 'js', contents: inChunk ? 'module.exports = __seedwrapChunk;\n' : LOADER }));
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        const n = LAZY.indexOf(relative(root, resolve(args.resolveDir, args.path)));
        return n < 0 ? undefined : { path: String(n), namespace: 'lazy-chunk' };
      });
      b.onLoad({ filter: /.*/, namespace: 'lazy-chunk' }, async (args) => {
        const n = Number(args.path);
        if (!chunkCode.has(n)) chunkCode.set(n, buildChunk(n));
        await chunkCode.get(n);
        return { loader: 'js', resolveDir: root, contents: `module.exports = require('seedwrap:chunk-loader')(${n});\n` };
      });
    },
  };
}

async function buildChunk(n) {
  const chunk = await build({ ...common, entryPoints: [LAZY[n]], write: false, plugins: [lazyChunks(true)] });
  return chunk.outputFiles[0].text;
}

// The main program is a chunk too, the last one (MAIN): the file's own
// script is only the launcher and the loader, which compiles the main chunk
// at once. So its code can come from the V8 code cache like the others
// (Node compiles a script it loads itself without any cache); without a
// cache it is compiled by new Function as the other chunks are.
const MAIN = LAZY.length;
const mainChunk = build({ ...common, entryPoints: ['bin/seedwrap.ts'], write: false, plugins: [lazyChunks(true)] }).then((r) => r.outputFiles[0].text);
const chunks = await Promise.all([...LAZY.map((_, n) => chunkCode.get(n) ?? buildChunk(n)), mainChunk]);
const ids = chunks.map((code) => createHash('sha256').update(code).digest('hex').slice(0, 16));
const lines = chunks.map((code, n) => `//chunk ${n} ${JSON.stringify(code)} ${ids[n]}\n`);
const script = `${LAUNCHER}\n"use strict";\n${LOADER.replace('module.exports = load;\n', `load(${MAIN});\n`)}`;
writeFileSync(outfile, script + lines.join(''));
chmodSync(outfile, 0o755);
trainCodeCache(outfile, ids);

/**
 * `<bundle>.v8cache`: V8's code for the chunks a store action compiles,
 * recorded at build time by running one such action (rustc = /bin/true, in a
 * temporary sandbox-shaped output base) under scripts/v8cache-train.cjs,
 * which calls createCachedData() on each chunk's script as the process ends:
 * the functions the action ran are in it, compiled. The build first writes a
 * cache of empty entries, so the loader compiles every chunk through node:vm
 * for the hook to see. Not byte-reproducible (V8's output) and not needed: it
 * belongs to the Node that built it, and without it (or with another Node)
 * the loader compiles as before. Never written anywhere but here.
 */
function trainCodeCache(bundle, ids) {
  const cacheFile = `${bundle}.v8cache`;
  rmSync(cacheFile, { force: true });
  if (process.env.SEEDWRAP_NO_V8CACHE === '1') return;
  // The cache is optional: nothing here may fail the build (an unusable
  // TMPDIR, a failed spawn), only say so in one line.
  const noCache = (why) => {
    rmSync(cacheFile, { force: true });
    console.warn(`build: no V8 code cache (${String(why).trim().split('\n')[0]}); the bundle compiles its chunks at run time`);
  };
  let tmp;
  try {
    tmp = mkdtempSync(join(tmpdir(), 'seedwrap-v8cache-'));
    writeCache(cacheFile, ids.map((id) => [id, Buffer.alloc(0)]));
    const ob = join(tmp, 'ob');
    mkdirSync(join(ob, 'execroot', 'ws'), { recursive: true });
    const cwd = join(ob, 'sandbox', 'linux-sandbox', '1', 'execroot', 'ws');
    mkdirSync(join(cwd, 'out'), { recursive: true });
    const out = join(tmp, 'out');
    mkdirSync(out);
    const r = spawnSync(process.execPath, [
      '--require', join(root, 'scripts', 'v8cache-train.cjs'), bundle,
      '--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--rustc-output-format', 'rendered', '--',
      '/bin/true', 'app/lib.rs', '--crate-name=app', '--crate-type=rlib', '--emit=dep-info,link,metadata', '--out-dir=out', '-Cincremental=${output_base}/rustc-incremental',
    ], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SEEDWRAP_V8CACHE_OUT: out }, stdio: ['ignore', 'ignore', 'pipe'] });
    const entries = ids.flatMap((id, n) => {
      const f = join(out, `seedwrap-chunk-${n}.bin`);
      return existsSync(f) ? [[id, readFileSync(f)]] : [];
    });
    if (r.status !== 0 || entries.length === 0) {
      noCache(r.status !== 0 ? `the training action failed: ${r.error?.message ?? (r.stderr?.toString().trim().split('\n').at(-1) || `exit ${r.status ?? r.signal}`)}` : 'the training action compiled no chunk');
      return;
    }
    writeCache(cacheFile, entries);
  } catch (e) {
    noCache(e instanceof Error ? e.message : e);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

function writeCache(file, entries) {
  const head = ['seedwrap-v8cache 1', ...entries.map(([id, data]) => `${id} ${data.length}`)].join('\n') + '\n\n';
  const tmpFile = `${file}.${process.pid}.tmp`;
  writeFileSync(tmpFile, Buffer.concat([Buffer.from(head, 'latin1'), ...entries.map(([, data]) => data)]), { mode: 0o644 });
  chmodSync(tmpFile, 0o644);
  renameSync(tmpFile, file);
}
