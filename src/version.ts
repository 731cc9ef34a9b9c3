/**
 * package.json's version, put in at build time (scripts/build.mjs, and
 * vitest.config.ts for the tests), so the bundle reads no file at run time and
 * stays byte-identical between two builds of the same commit.
 */
declare const SEEDWRAP_VERSION: string;

// Unbundled source run by plain Node has no build step to put the version in.
export const VERSION: string = typeof SEEDWRAP_VERSION === 'string' ? SEEDWRAP_VERSION : 'unknown (unbundled source)';
