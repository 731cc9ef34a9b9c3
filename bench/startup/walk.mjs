// Listing a seed tree: a plain readdir walk (what the seeder does) against
// fast-glob, in-process, on a synthetic 10,000-file tree shaped like rustc's
// incremental directory, in three layouts:
//   plain    real files
//   sandbox  every file a symlink to a real file elsewhere (how a Bazel
//            sandbox stages an input tree)
//   cycle    plain, plus a directory symlink back to the root
// Each walker must return every file with its size (the seed threshold needs
// the sizes). Medians of ROUNDS rounds, walkers interleaved within a round.
//
// Usage: node bench/startup/walk.mjs [DIR]   (default /tmp/seedwrap-bench-walk; ROUNDS=15)
// Creates 10,000 small files and 10,000 symlinks under DIR, removed at the end.
import fg from 'fast-glob';
import { mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const base = process.argv[2] ?? '/tmp/seedwrap-bench-walk';
const rounds = Number(process.env.ROUNDS ?? 15);
const DIRS = 10;
const FILES_PER_DIR = 1000;

function makeTrees() {
  rmSync(base, { recursive: true, force: true });
  const plain = join(base, 'plain');
  const sandbox = join(base, 'sandbox');
  for (let d = 0; d < DIRS; d++) {
    const sub = join('incremental', `crate${d}-0123456789abc`, 's-h0m2c3-working');
    mkdirSync(join(plain, sub), { recursive: true });
    mkdirSync(join(sandbox, sub), { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++) {
      const rel = join(sub, `cgu${f}.o`);
      writeFileSync(join(plain, rel), 'x'.repeat(f % 64));
      symlinkSync(join(plain, rel), join(sandbox, rel));
    }
  }
  // The cycle layout is the plain tree plus this link, made before its turn.
  return { plain, sandbox, cycle: plain };
}

/**
 * Depth-first readdir walk. A symlink is followed (stat), a directory reached
 * twice (same dev and inode) is not entered again, so a cycle ends the branch.
 */
function readdirWalk(root) {
  const files = [];
  const seen = new Set();
  const visit = (dir, rel) => {
    const st = statSync(dir);
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) visit(abs, r);
      else if (e.isFile()) files.push([r, statSync(abs).size]);
      else if (e.isSymbolicLink()) {
        const t = statSync(abs, { throwIfNoEntry: false });
        if (t?.isDirectory()) visit(abs, r);
        else if (t?.isFile()) files.push([r, t.size]);
      }
    }
  };
  visit(root, '');
  return files;
}

// fast-glob's defaults, plus dot files and stats (sizes); suppressErrors so
// that the cycle layout ends at ELOOP instead of throwing.
const fgOptions = { dot: true, onlyFiles: true, stats: true, suppressErrors: true };
const walkers = {
  'readdir walk (sync)': (root) => readdirWalk(root),
  'fast-glob sync': (root) => fg.sync('**', { ...fgOptions, cwd: root }).map((e) => [e.path, e.stats.size]),
  'fast-glob async': async (root) => (await fg('**', { ...fgOptions, cwd: root })).map((e) => [e.path, e.stats.size]),
  'fast-glob sync, followSymbolicLinks: false': (root) =>
    fg.sync('**', { ...fgOptions, followSymbolicLinks: false, cwd: root }).map((e) => [e.path, e.stats.size]),
};

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const trees = makeTrees();
console.log(`node ${process.version}; ${DIRS * FILES_PER_DIR} files; ${rounds} rounds\n`);
console.log('| tree | walker | median ms | files found | total bytes |');
console.log('|---|---|---|---|---|');
for (const [tree, root] of Object.entries(trees)) {
  // The cycle tree is the plain one plus the back-to-root link, made last.
  if (tree === 'cycle') symlinkSync('..', join(root, 'incremental', 'back-to-root'));
  const times = Object.fromEntries(Object.keys(walkers).map((k) => [k, []]));
  const found = {};
  // One round for the cycle: fast-glob takes seconds there.
  for (let i = 0; i < (tree === 'cycle' ? 1 : rounds); i++) {
    for (const [name, walk] of Object.entries(walkers)) {
      const t0 = performance.now();
      const files = await walk(root);
      times[name].push(performance.now() - t0);
      found[name] = [files.length, files.reduce((a, [, s]) => a + s, 0)];
    }
  }
  for (const name of Object.keys(walkers)) {
    console.log(`| ${tree} | ${name} | ${median(times[name]).toFixed(1)} | ${found[name][0]} | ${found[name][1]} |`);
  }
}
rmSync(base, { recursive: true, force: true });
