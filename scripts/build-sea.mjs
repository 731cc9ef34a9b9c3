// Makes dist/seedwrap-linux-x64: a Node single executable application (SEA)
// of the bundle, for executors without Node (docs/distribution.md).
//
// Its bytes are part of every rustc action's key, like the bundle's, so two
// builds from the same commit and the same Node binary must be identical:
// no code cache (V8's cache differed on every build: three builds, three
// hashes), no snapshot, the Node binary stripped by binutils' strip (same
// input, same output) before postject injects the blob. The executable is the
// Node that runs this script: its version and build decide the bytes.
//
// The SEA's main script is the bundle without its `//chunk N` lines; each
// lazy chunk is a SEA asset `chunk-N` instead, which the bundle's loader reads
// when node:sea says it runs inside one (scripts/build.mjs).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// An optional argument writes elsewhere (the reproducibility test builds twice).
const outfile = process.argv[2] ?? join(root, 'dist', 'seedwrap-linux-x64');
const POSTJECT = join(dirname(createRequire(import.meta.url).resolve('postject')), 'cli.js');
// Node's own fuse string: postject flips it so the binary looks for its blob.
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`build-sea: makes a Linux x64 executable from the running Node; this is ${process.platform} ${process.arch}`);
  process.exit(1);
}

/** The bundle's main part and its chunks, from the `//chunk N "<JSON>"` lines build.mjs appends. */
function splitBundle(text) {
  // The last match: the loader's own code contains the tag too, and a line
  // of JSON never holds a raw newline.
  const first = text.lastIndexOf('\n//chunk 0 "');
  if (first < 0) throw new Error('build-sea: the bundle has no //chunk lines');
  const chunks = text.slice(first + 1).split('\n').filter((l) => l !== '').map((line, n) => {
    const m = /^\/\/chunk (\d+) (".*") [0-9a-f]{16}$/.exec(line);
    if (!m || Number(m[1]) !== n) throw new Error(`build-sea: unexpected chunk line ${n}: ${line.slice(0, 40)}`);
    return JSON.parse(m[2]);
  });
  return { main: text.slice(0, first + 1), chunks };
}

const work = mkdtempSync(join(tmpdir(), 'seedwrap-sea-'));
try {
  const bundle = join(work, 'seedwrap.cjs');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), bundle], { stdio: 'inherit' });
  const { main, chunks } = splitBundle(readFileSync(bundle, 'latin1'));
  writeFileSync(join(work, 'main.cjs'), main, 'latin1');
  const assets = {};
  chunks.forEach((code, n) => {
    writeFileSync(join(work, `chunk-${n}.js`), code);
    assets[`chunk-${n}`] = `chunk-${n}.js`;
  });
  // Paths relative to work (the cwd below): Node stores main's path in the
  // blob, and an absolute one made every build's bytes differ.
  const config = {
    main: 'main.cjs',
    output: 'sea.blob',
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
    assets,
  };
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config));
  execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], { cwd: work, stdio: 'ignore' });

  const exe = join(work, 'seedwrap');
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  // Debian's and nodesource's node carry debug info (99 MB; 86 MB stripped).
  // strip prints a warning per unnamed note section of Node's binary; only a failure matters.
  try {
    execFileSync('strip', [exe], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new Error(`build-sea: strip ${exe} failed (binutils): ${err.stderr?.toString().trim() || err.message}`);
  }
  // postject's CLI in a child: its LIEF prints a warning per unnamed note
  // section of Node's binary, shown only if the injection fails.
  try {
    execFileSync(process.execPath, [POSTJECT, exe, 'NODE_SEA_BLOB', join(work, 'sea.blob'), '--sentinel-fuse', FUSE], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`build-sea: postject failed: ${err.stdout?.toString() ?? ''}${err.stderr?.toString() || err.message}`);
  }

  const version = execFileSync(exe, ['--version'], { encoding: 'utf8' }).trim();
  const expected = `seedwrap ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}`;
  if (version !== expected) throw new Error(`build-sea: the executable printed ${JSON.stringify(version)}, not ${JSON.stringify(expected)}`);

  mkdirSync(dirname(outfile), { recursive: true });
  // Same file system as work only by chance: copy next to the target, then rename.
  copyFileSync(exe, `${outfile}.tmp`);
  chmodSync(`${outfile}.tmp`, 0o755);
  renameSync(`${outfile}.tmp`, outfile);
  const bytes = readFileSync(outfile);
  const sha = createHash('sha256').update(bytes).digest('hex');
  console.log(`${sha}  ${outfile} (${bytes.length} bytes, Node ${process.version})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
