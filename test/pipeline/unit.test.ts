import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedInput, depInfoPaths, externPaths, inputIds } from '../../src/pipeline/inputs.ts';
import { decode, encode, sha256 } from '../../src/pipeline/message.ts';
import { flatArgs, rendezvousKey, socketIn } from '../../src/pipeline/rendezvous.ts';
import { tempDir } from '../helpers/tmp.ts';

/** rustc's argv as seedwrap computes it in a sandbox: `${pwd}` and `${output_base}` already substituted. */
function argvIn(cwd: string, ob: string): string[] {
  return ['rustc', 'app/lib.rs', '--crate-name=app', `--remap-path-prefix=${ob}=ob`, `--remap-path-prefix=${cwd}=.`, '--out-dir=out', '--emit=dep-info,link,metadata', '--json=artifacts'];
}

/**
 * A directory that exists (with the real `<ob>/execroot/ws` of its output
 * base): bazelLayout.ts takes a cwd for a sandbox only on real directories.
 */
function real(path: string, ob: string): string {
  mkdirSync(path, { recursive: true });
  mkdirSync(join(ob, 'execroot', 'ws'), { recursive: true });
  return path;
}

describe('the rendezvous key', () => {
  const top = tempDir();
  const ob = join(top, 'ob');
  const sb = (n: number, strategy = 'linux-sandbox') => real(`${ob}/sandbox/${strategy}/${n}/execroot/ws`, ob);
  const envIn = (n: number): Record<string, string> => ({ PATH: '/usr/bin', OUT_DIR: `${sb(n)}/out/build_script.out_dir` });

  it("is the same for a crate's two actions in different sandboxes, and differs with the output base, the flags or the environment", () => {
    const k = (n: number, base = ob, extra: string[] = [], env = envIn(n)) => rendezvousKey([...argvIn(`${base}/sandbox/linux-sandbox/${n}/execroot/ws`, `${base}/sandbox/linux-sandbox/${n}`), ...extra], env, real(`${base}/sandbox/linux-sandbox/${n}/execroot/ws`, base));
    expect(k(7)).toBe(k(8));
    expect(k(7)).toMatch(/^[0-9a-f]{32}$/);
    expect(k(7, join(top, 'other'))).not.toBe(k(8));
    expect(k(7, ob, ['-Copt-level=3'])).not.toBe(k(8));
    expect(k(7, ob, [], { ...envIn(7), CARGO_PKG_VERSION: '1.0.0' })).not.toBe(k(8));
    // seedwrap's own switches are not rustc's business.
    expect(k(7, ob, [], { ...envIn(7), RULES_RUST_PROCESS_WRAPPER_DEBUG: '1', SEEDWRAP_PIPELINE_DIR: '/x' })).toBe(k(8));
  });

  it('reads param files by content, not by name (Bazel names them after each action\'s output)', () => {
    const root = tempDir();
    mkdirSync(join(root, 'execroot', 'ws'), { recursive: true });
    const a = join(root, 'sandbox', 'linux-sandbox', '1', 'execroot', 'ws');
    const b = join(root, 'sandbox', 'linux-sandbox', '2', 'execroot', 'ws');
    for (const [dir, name, n] of [[a, 'libapp.rlib-0.params.expanded', 1], [b, 'libapp.rmeta-0.params.expanded', 2]] as const) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, name), `app/lib.rs\n--remap-path-prefix=${join(root, 'sandbox', 'linux-sandbox', String(n), 'execroot', 'ws')}=.\n--extern=itoa=deps/libitoa.rmeta\n`);
    }
    const ka = rendezvousKey(flatArgs(['rustc', '@libapp.rlib-0.params.expanded'], a), {}, a);
    const kb = rendezvousKey(flatArgs(['rustc', '@libapp.rmeta-0.params.expanded'], b), {}, b);
    expect(ka).toBe(kb);
    expect(flatArgs(['rustc', '@libapp.rlib-0.params.expanded'], a)).toEqual(['rustc', 'app/lib.rs', `--remap-path-prefix=${a}=.`, '--extern=itoa=deps/libitoa.rmeta']);
    writeFileSync(join(b, 'libapp.rmeta-0.params.expanded'), 'app/other.rs\n');
    expect(rendezvousKey(flatArgs(['rustc', '@libapp.rmeta-0.params.expanded'], b), {}, b)).not.toBe(ka);
  });

  it("a sandboxed worker's directory is the varying part too; outside a sandbox the cwd is in the key", () => {
    const w = (n: number, m: string) => real(`${ob}/bazel-workers/worker-${n}-${m}/ws`, ob);
    expect(rendezvousKey([`--remap-path-prefix=${w(1, 'Rustc')}=.`], {}, w(1, 'Rustc'))).toBe(rendezvousKey([`--remap-path-prefix=${w(4, 'RustcMetadata')}=.`], {}, w(4, 'RustcMetadata')));
    expect(rendezvousKey(['x'], {}, real(`${ob}/execroot/ws`, ob))).not.toBe(rendezvousKey(['x'], {}, real(join(top, 'elsewhere', 'execroot', 'ws'), join(top, 'elsewhere'))));
  });
});

describe('rendezvous socket paths', () => {
  it('a path too long for sun_path goes through the directory descriptor', () => {
    const short = socketIn('/tmp/p', 'k');
    expect(short.socket).toBe('/tmp/p/k.sock');
    const dir = join(tempDir(), 'x'.repeat(120));
    mkdirSync(dir);
    const long = socketIn(dir, 'k');
    expect(long.socket).toMatch(/^\/proc\/self\/fd\/\d+\/k\.sock$/);
    expect(long.real).toBe(join(dir, 'k.sock'));
    long.release();
  });
});

describe('inputs and messages', () => {
  it("reads rustc's dep-info: every prerequisite once per rule, escaped spaces, env-dep comments skipped", () => {
    const d = join(tempDir(), 'app.d');
    writeFileSync(d, 'out/app.d: app/lib.rs app/my\\ mod.rs app/data.txt\n\nout/libapp.rmeta: app/lib.rs app/my\\ mod.rs app/data.txt\n\napp/lib.rs:\napp/my\\ mod.rs:\napp/data.txt:\n\n# env-dep:CARGO_PKG_NAME=app\n');
    expect(new Set(depInfoPaths(d))).toEqual(new Set(['app/lib.rs', 'app/my mod.rs', 'app/data.txt']));
  });

  // A build script's OUT_DIR file is named by its absolute path under the
  // directory rustc ran in: each action's own sandbox, or the stable cwd that
  // exists only in the action's namespace. Both actions' files are symlinks to
  // the one file in the execroot.
  it("an OUT_DIR input named under rustc's own cwd is found below each action's cwd", () => {
    const top = tempDir();
    const gen = join(top, 'execroot', 'generated.rs');
    mkdirSync(join(top, 'execroot'));
    writeFileSync(gen, 'pub const X: u32 = 1;\n');
    const sandbox = (n: number) => {
      const cwd = join(top, `sb${n}`, 'execroot', 'ws');
      mkdirSync(join(cwd, 'out_dir'), { recursive: true });
      symlinkSync(gen, join(cwd, 'out_dir', 'generated.rs'));
      return cwd;
    };
    const [a, b] = [sandbox(1), sandbox(2)];
    // Plain: rustc ran in the producer's sandbox.
    const plain = inputIds([`${a}/out_dir/generated.rs`], a);
    expect(plain[0]![0]).toBe('${seedwrap:cwd}/out_dir/generated.rs');
    expect(changedInput(plain, b)).toBeUndefined();
    // The stable cwd: a path that does not exist outside the namespace.
    const stable = join(top, 'stable', 'execroot', 'ws');
    const viaStable = inputIds([`${stable}/out_dir/generated.rs`], a, stable);
    expect(changedInput(viaStable, b)).toBeUndefined();
    // Another file in the consumer's sandbox (a regenerated OUT_DIR): changed.
    const c = join(top, 'sb3', 'execroot', 'ws');
    mkdirSync(join(c, 'out_dir'), { recursive: true });
    writeFileSync(join(c, 'out_dir', 'generated.rs'), 'pub const X: u32 = 1;\n');
    expect(changedInput(viaStable, c)).toBe('${seedwrap:cwd}/out_dir/generated.rs');
  });

  // Before: a file neither side could stat (here, the stable cwd's path taken
  // literally) had the identity "error:ENOENT" on both, and was taken as
  // unchanged, so a message left by an earlier build could stand for a
  // compile whose generated source had changed since.
  it('an input that cannot be read on either side never counts as unchanged', () => {
    const top = tempDir();
    const elsewhere = join(tempDir(), 'stable', 'out_dir', 'generated.rs');
    const missing = inputIds([elsewhere], top);
    expect(missing[0]![1]).toMatch(/^error:/);
    expect(changedInput(missing, top)).toBe(elsewhere);
    // A name that already looks like the token is never read as one.
    expect(changedInput(inputIds(['${seedwrap:cwd}/x.rs'], top), top)).toBe('${seedwrap:cwd}/x.rs');
  });

  it('finds --extern files in both spellings and skips sysroot crates', () => {
    expect(externPaths(['--extern=a=x/liba.rmeta', '--extern', 'b=y/libb.rlib', '--extern', 'proc_macro', '--extern=c'])).toEqual(['x/liba.rmeta', 'y/libb.rlib']);
  });

  it('a message must be whole and its rmeta must match its hash', () => {
    const rmeta = Buffer.from('rust\0\0\0metadata');
    const prefix = Buffer.from('{"artifact":"out/libapp.rmeta","emit":"metadata"}\n');
    const whole = encode({ header: { v: 1, prefix: prefix.length, rmeta: rmeta.length, sha256: sha256(rmeta), inputs: [] }, prefix, rmeta });
    const ok = decode(whole);
    expect('reason' in ok ? ok.reason : ok.rmeta.equals(rmeta)).toBe(true);
    expect(decode(whole.subarray(0, whole.length - 1))).toHaveProperty('reason');
    expect(decode(Buffer.concat([whole, Buffer.from('x')]))).toHaveProperty('reason');
    const damaged = Buffer.from(whole);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 1) ^ 1, damaged.length - 1);
    expect(decode(damaged)).toEqual({ reason: 'the rmeta does not match its hash' });
    expect(decode(Buffer.alloc(0))).toEqual({ reason: 'the producer ended before it sent the rmeta' });
  });
});
