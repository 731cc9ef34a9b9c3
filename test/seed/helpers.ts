/** Real files, real rustc: helpers shared by the seeding tests. */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const RUSTC = [join(homedir(), '.cargo/bin/rustc'), '/usr/bin/rustc'].find((p) => statSync(p, { throwIfNoEntry: false })) ?? 'rustc';

export function tempDir(prefix: string, base = tmpdir()): string {
  return mkdtempSync(join(base, `seedwrap-${prefix}-`));
}

/** Directories only: files may be hard links shared with a seed whose modes must not change. */
export function removeTree(path: string): void {
  spawnSync('find', [path, '-type', 'd', '-exec', 'chmod', 'u+w', '{}', '+']);
  rmSync(path, { recursive: true, force: true });
}

export interface Entry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  nlink: number;
  ino: number;
  sha?: string;
}

/** path → type, mode bits, link count, inode and content hash of every entry under root. */
export function snapshot(root: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const visit = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(path);
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      const entry: Entry = { type, mode: st.mode & 0o7777, nlink: st.nlink, ino: st.ino };
      if (type === 'file') entry.sha = createHash('sha256').update(readFileSync(path)).digest('hex');
      out.set(r, entry);
      if (type === 'dir') visit(path, r);
    }
  };
  visit(root, '');
  return out;
}

/** A library crate with several modules, so rustc emits several codegen units (several `*.o`). */
export function writeCrate(dir: string, modules = 6, fns = 30): string {
  mkdirSync(dir, { recursive: true });
  let lib = '';
  for (let m = 0; m < modules; m++) {
    lib += `pub mod m${m} {\n`;
    for (let f = 0; f < fns; f++) lib += `  pub fn f${f}(x: u64) -> u64 { x.wrapping_mul(${f + 3}).rotate_left(${m}) ^ ${m * 1000 + f} }\n`;
    lib += '}\n';
  }
  writeFileSync(join(dir, 'lib.rs'), lib);
  return join(dir, 'lib.rs');
}

export interface RustcRun {
  status: number | null;
  stderr: string;
}

/** rustc from a fixed cwd with a fixed --out-dir: reuse needs both stable (shared/notes/rustc-incremental.md). */
export function rustc(cwd: string, incr: string, extra: string[] = []): RustcRun {
  const r = spawnSync(RUSTC, ['--crate-type', 'lib', '--crate-name', 'seedtest', '--edition', '2021', 'src/lib.rs', '--out-dir', 'out', `-Cincremental=${incr}`, ...extra], {
    cwd,
    env: { ...process.env, RUSTC_BOOTSTRAP: '1' },
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr };
}

export const ASSERT_LOADED = ['-Zassert-incr-state=loaded'];

/** Makes a tree read-only the way Bazel leaves a tree artifact. */
export function makeReadOnly(root: string): void {
  execFileSync('chmod', ['-R', 'a-w', root]);
}

export function fsType(path: string): string {
  return execFileSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).trim();
}

/** A build dir with a crate, built once into `seed` (cold), then edited by one line. */
export function coldBuild(root: string): { work: string; seed: string } {
  const work = join(root, 'work');
  writeCrate(join(work, 'src'));
  const seed = join(root, 'seed');
  const cold = rustc(work, seed);
  if (cold.status !== 0) throw new Error(`cold build failed: ${cold.stderr}`);
  writeFileSync(join(work, 'src/lib.rs'), `${readFileSync(join(work, 'src/lib.rs'), 'utf8')}pub fn edited() -> u32 { 7 }\n`);
  return { work, seed };
}

/** Bundles test/seed/fixtures/seed-cli.ts into `dir` and returns the script path. */
export async function bundleSeedCli(dir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(dir, 'seed-cli.cjs');
  await build({ entryPoints: [join(import.meta.dirname, 'fixtures/seed-cli.ts')], outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' });
  return outfile;
}

/** `files` distinct files linked `copies` times each into `copies` directories: a large tree made cheaply. */
export function linkedTree(root: string, files: number, copies: number): number {
  const originals = join(root, 'originals');
  mkdirSync(originals, { recursive: true });
  for (let f = 0; f < files; f++) writeFileSync(join(originals, `f${f}`), `file ${f}\n`);
  for (let c = 0; c < copies; c++) {
    const dir = join(root, 'tree', `d${c}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < files; f++) linkSync(join(originals, `f${f}`), join(dir, `f${f}`));
  }
  return files * copies;
}
