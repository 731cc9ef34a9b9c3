// Comment-edit rebuild of a real crate (Debian's regex-syntax) through the
// built bundle, in sandbox-shaped working directories
// (<ob>/sandbox/linux-sandbox/<N>/execroot/ws, a new N per compile, as Bazel
// does): with the store (-Cincremental=${output_base}/rustc-incremental, stable
// cwd on by itself) against no incremental at all, interleaved round by round
// so both see the same machine load. Also the price of the store on a clean
// build (first compile, empty store) against no incremental.
//
//   node bench/store/rebuild.mjs [ROUNDS=5] [CRATE=regex-syntax]
// Prints a JSON summary (medians in ms and ratios). Needs root (mount namespace).
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const rounds = Number(process.argv[2] ?? 5);
const prefix = process.argv[3] ?? 'regex-syntax';
const bundle = resolve(import.meta.dirname, '../../dist/seedwrap.cjs');
const rustc = join(execFileSync(join(homedir(), '.cargo/bin/rustc'), ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), 'bin', 'rustc');
const reg = '/usr/share/cargo/registry';
const crate = readdirSync(reg).filter((n) => n.startsWith(`${prefix}-`)).sort().at(-1);
const ob = mkdtempSync(join(tmpdir(), 'seedwrap-bench-store-'));
let n = 0;

function sandbox(edits) {
  const dir = join(ob, 'sandbox', 'linux-sandbox', String(++n), 'execroot', 'ws');
  mkdirSync(join(dir, 'out'), { recursive: true });
  // Bazel's real execroot beside every sandbox (seedwrap checks it is there).
  mkdirSync(join(ob, 'execroot', 'ws'), { recursive: true });
  cpSync(join(reg, crate), join(dir, 'c'), { recursive: true, dereference: true });
  appendFileSync(join(dir, 'c', 'src', 'lib.rs'), edits);
  return dir;
}

function compile(dir, incremental) {
  const args = [bundle, '--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--rustc-output-format', 'rendered', '--',
    rustc, 'c/src/lib.rs', `--crate-name=${prefix.replaceAll('-', '_')}`, '--crate-type=rlib', '--edition=2018', '--error-format=json', '--json=artifacts',
    '--emit=dep-info,link,metadata', '--out-dir=out', '-Copt-level=0', '-Cdebuginfo=0', '--cap-lints=allow',
    '--remap-path-prefix=${output_base}=ob', '--remap-path-prefix=${pwd}=.', ...(incremental ? ['-Cincremental=${output_base}/rustc-incremental'] : [])];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0 || r.stderr !== '') throw new Error(`compile failed (${r.status}): ${r.stderr}`);
  rmSync(join(ob, 'sandbox', 'linux-sandbox', String(n)), { recursive: true, force: true });
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const clean = { plain: [], store: [] };
const edit = { plain: [], store: [] };
for (let i = 0; i < rounds; i++) {
  // A clean build: empty store vs no incremental.
  rmSync(join(ob, 'rustc-incremental'), { recursive: true, force: true });
  clean.plain.push(compile(sandbox(''), false));
  clean.store.push(compile(sandbox(''), true));
  // Then a comment edit, rebuilt in a new sandbox: from the store vs no incremental.
  const tail = `// comment edit ${i}\n`;
  edit.plain.push(compile(sandbox(tail), false));
  edit.store.push(compile(sandbox(tail), true));
}
rmSync(ob, { recursive: true, force: true });
const m = (xs) => Math.round(median(xs));
console.log(JSON.stringify({
  date: new Date().toISOString(), crate, rustc: execFileSync(rustc, ['--version'], { encoding: 'utf8' }).trim(), rounds, load: loadavg().map((l) => l.toFixed(2)),
  cleanBuildMs: { noIncremental: m(clean.plain), store: m(clean.store), ratio: +(median(clean.store) / median(clean.plain)).toFixed(2) },
  commentEditRebuildMs: { noIncremental: m(edit.plain), store: m(edit.store), ratio: +(median(edit.store) / median(edit.plain)).toFixed(2) },
  raw: { clean, edit },
}, null, 1));
