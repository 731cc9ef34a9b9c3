// Bundles seedwrap into one self-contained CommonJS file, dist/seedwrap.cjs.
//
// The file is an input of every rustc action (it is the action's executable),
// so its bytes must not change between two clean builds: no timestamps, no
// absolute paths, no source maps, a pinned esbuild. CommonJS because Node
// loads it faster than an ES module (see docs/dependencies.md).
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
const LOADER = `const { readFileSync } = require('node:fs');
function source(n) {
  const sea = require('node:sea');
  if (sea.isSea()) return sea.getAsset('chunk-' + n, 'utf8');
  const text = readFileSync(__filename, 'latin1');
  const tag = '\\n//chunk ' + n + ' ';
  const at = text.lastIndexOf(tag) + tag.length;
  return JSON.parse(text.slice(at, text.indexOf('\\n', at)));
}
function load(n) {
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', '__seedwrapChunk', source(n))(mod, mod.exports, require, load);
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

const main = await build({
  ...common,
  entryPoints: ['bin/seedwrap.ts'],
  outfile,
  write: false,
  banner: { js: LAUNCHER },
  plugins: [lazyChunks(false)],
});
const chunks = await Promise.all(LAZY.map((_, n) => chunkCode.get(n) ?? buildChunk(n)));
const lines = chunks.map((code, n) => `//chunk ${n} ${JSON.stringify(code)}\n`);
writeFileSync(outfile, main.outputFiles[0].text + lines.join(''));
chmodSync(outfile, 0o755);
