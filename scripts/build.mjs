// Bundles seedwrap into one self-contained CommonJS file, dist/seedwrap.cjs.
//
// The file is an input of every rustc action (it is the action's executable),
// so its bytes must not change between two clean builds: no timestamps, no
// absolute paths, no source maps, a pinned esbuild. CommonJS because Node
// loads it faster than an ES module (see docs/dependencies.md).
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
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
  charset: 'utf8',
  logLevel: 'warning',
  // `seedwrap --version`: a constant from package.json, so the bytes depend on
  // the commit only.
  define: { SEEDWRAP_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) },
};

// Modules that only some runs need (the worker, the seeding engine, the
// `seed` command with commander). V8 pre-parses every function of a script it
// loads, so merely carrying them cost each one-shot action ~3 ms of CPU
// (docs/benchmarks-startup.md). Each is bundled on its own and embedded as a
// string, compiled only when its dynamic import() runs.
const LAZY = new Set(['src/worker/index.ts', 'src/seed/index.ts', 'src/seed/command.ts', 'src/store/index.ts']);

const lazyChunks = {
  name: 'lazy-chunks',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const path = resolve(args.resolveDir, args.path);
      return LAZY.has(relative(root, path)) ? { path, namespace: 'lazy-chunk' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-chunk' }, async (args) => {
      const chunk = await build({ ...common, entryPoints: [args.path], write: false, plugins: [lazyChunks] });
      const code = chunk.outputFiles[0].text;
      return {
        loader: 'js',
        resolveDir: root,
        contents: `const m = { exports: {} };\nnew Function('module', 'exports', 'require', ${JSON.stringify(code)})(m, m.exports, require);\nmodule.exports = m.exports;\n`,
      };
    });
  },
};

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

await build({
  ...common,
  entryPoints: ['bin/seedwrap.ts'],
  outfile,
  banner: { js: LAUNCHER },
  plugins: [lazyChunks],
});
chmodSync(outfile, 0o755);
