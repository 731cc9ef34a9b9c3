// Shared by the Bazel benchmarks (bench/bazel/strategies.mjs,
// bench/worker/example-bazel.mjs): command-line options, and a private copy of
// examples/bazel with its own output root and the wrapper under test copied in
// (its bytes are part of every action key, so a rebuild of dist/ during a run
// cannot change them).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));

const argv = process.argv.slice(2);
export const hasFlag = (name) => argv.includes(name);
export function option(name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
}

/** The wrapper under test: --wrapper FILE, or the built bundle. */
export function wrapperUnderTest() {
  const wrapper = option('--wrapper', join(repo, 'dist/seedwrap.cjs'));
  if (!existsSync(wrapper)) throw new Error(`${wrapper} is missing: run npm run build first`);
  return wrapper;
}

/** A fresh copy of examples/bazel and a fresh --output_user_root; `bazel(...args)` runs there. */
export function exampleWorkspace(wrapper, prefix) {
  const ws = mkdtempSync(join(tmpdir(), `${prefix}-ws-`));
  const root = mkdtempSync(join(tmpdir(), `${prefix}-root-`));
  const wrapperInWs = join(ws, 'tools/seedwrap/seedwrap.cjs');
  cpSync(join(repo, 'examples/bazel'), ws, { recursive: true, dereference: true, filter: (p) => !p.endsWith('tools/seedwrap/seedwrap.cjs') });
  copyFileSync(wrapper, wrapperInWs);
  chmodSync(wrapperInWs, 0o755);
  const bazel = (...args) => spawnSync('bazel', [`--output_user_root=${root}`, '--max_idle_secs=900', ...args], { cwd: ws, encoding: 'utf8' });
  return { ws, root, bazel };
}
