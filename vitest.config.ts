import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // As scripts/build.mjs does for the bundle (src/version.ts).
  define: { SEEDWRAP_VERSION: JSON.stringify(JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')).version) },
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests spawn real rustc, real Bazel and the built bundle; the
    // machine has 2 cores, so keep file-level parallelism modest.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
