// Bundles seedwrap into one self-contained CommonJS file, dist/seedwrap.cjs.
//
// The file is an input of every rustc action (it is the action's executable),
// so its bytes must not change between two clean builds: no timestamps, no
// absolute paths, no source maps, a pinned esbuild. CommonJS because Node
// loads it faster than an ES module (see docs/dependencies.md).
import { build } from 'esbuild';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// An optional argument writes elsewhere (the reproducibility test builds twice).
const outfile = process.argv[2] ?? join(root, 'dist', 'seedwrap.cjs');
mkdirSync(dirname(outfile), { recursive: true });

await build({
  absWorkingDir: root,
  entryPoints: ['bin/seedwrap.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20.12',
  minify: true,
  legalComments: 'none',
  sourcemap: false,
  charset: 'utf8',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
