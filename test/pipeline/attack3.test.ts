import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from '../../src/pipeline/consumer.ts';
import { decodeFinal } from '../../src/pipeline/final.ts';
import { takeMessage } from '../../src/pipeline/finished.ts';
import { changedInput, inputIds } from '../../src/pipeline/inputs.ts';
import { decode } from '../../src/pipeline/message.ts';
import { Producer } from '../../src/pipeline/producer.ts';
import { rendezvousDir, socketIn } from '../../src/pipeline/rendezvous.ts';
import { SharedRustc } from '../../src/pipeline/shared.ts';
import { tempDir } from '../helpers/tmp.ts';

const META = Buffer.from('{"$message_type":"artifact","artifact":"out/libapp.rmeta","emit":"metadata"}\n');
const DEP = Buffer.from('{"$message_type":"artifact","artifact":"out/app.d","emit":"dep-info"}\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A crate in `cwd`: app/lib.rs, its rmeta and dep-info in out/. */
function crate(cwd: string, src = 'pub fn f() {}\n'): void {
  mkdirSync(join(cwd, 'app'), { recursive: true });
  mkdirSync(join(cwd, 'out'), { recursive: true });
  writeFileSync(join(cwd, 'app', 'lib.rs'), src);
  writeFileSync(join(cwd, 'out', 'libapp.rmeta'), 'rust\0\0\0metadata');
  writeFileSync(join(cwd, 'out', 'app.d'), 'out/app.d: app/lib.rs\n\nout/libapp.rmeta: app/lib.rs\n\napp/lib.rs:\n');
}

/** Runs a producer over `lines` (rustc's stderr up to the rmeta); the message it leaves, if any. */
async function produce(cwd: string, dir: string, lines: Buffer[], during?: () => void, program = 'rustc'): Promise<Buffer | undefined> {
  const rv = socketIn(dir, 'k'.repeat(32));
  const p = new Producer(rv, { cwd, args: [program, 'app/lib.rs', '--emit=dep-info,metadata,link', '--json=artifacts'], leak: undefined });
  p.start();
  await sleep(20);
  // rustc has read its sources by now
  during?.();
  for (const l of lines) p.onLine(l, l === META ? 'metadata-done' : 'skip');
  p.close();
  await sleep(20);
  return existsSync(rv.finished) ? readFileSync(rv.finished) : undefined;
}

describe('attack3: the identity check', () => {
  // rules_rust's toolchain repository keeps its name (and the compiler its
  // path) across a toolchain bump: a message the old rustc left must not stand
  // for the new one's compile. Before, the compiler was not among the inputs.
  it('a message left by another compiler at the same path is not taken; the same compiler is', async () => {
    const cwd = tempDir();
    const dir = tempDir();
    crate(cwd);
    mkdirSync(join(cwd, 'tools'));
    writeFileSync(join(cwd, 'tools', 'rustc'), '#!/bin/sh\necho 1.95\n');
    writeFileSync(join(cwd, 'tools', 'rustc.next'), '#!/bin/sh\necho 1.96\n');
    await sleep(120);
    const same = await produce(cwd, dir, [DEP, META], undefined, 'tools/rustc');
    const m1 = same && decode(same);
    expect(m1 && !('reason' in m1) ? check(m1, 'json', cwd) : { reason: 'no message' }).not.toHaveProperty('reason');
    const left = await produce(cwd, dir, [DEP, META], undefined, 'tools/rustc');
    renameSync(join(cwd, 'tools', 'rustc.next'), join(cwd, 'tools', 'rustc'));
    const m2 = left && decode(left);
    expect(m2 && !('reason' in m2) ? check(m2, 'json', cwd) : { reason: 'no message' }).toEqual({ reason: 'input tools/rustc is not the file the full compile read' });
  });

  // rustc opens `link/../x.rs` through the symlink `link`; path.resolve made it
  // `x.rs` by name, another file than rustc read on each side.
  it("a `..` after a symlinked directory is followed as the kernel follows it", () => {
    const top = tempDir();
    const side = (n: string) => {
      const cwd = join(top, n, 'execroot', 'ws');
      mkdirSync(join(top, `real${n}`, 'd'), { recursive: true });
      writeFileSync(join(top, `real${n}`, 'x.rs'), `pub const N: &str = "${n}";\n`);
      mkdirSync(cwd, { recursive: true });
      symlinkSync(join(top, `real${n}`, 'd'), join(cwd, 'link'));
      symlinkSync(join(top, 'same.rs'), join(cwd, 'x.rs'));
      return cwd;
    };
    writeFileSync(join(top, 'same.rs'), 'pub const N: &str = "same";\n');
    const [a, b] = [side('1'), side('2')];
    expect(changedInput(inputIds(['link/../x.rs'], a), b)).toBe('link/../x.rs');
    expect(changedInput(inputIds([`${a}/link/../x.rs`], a), b)).toBe('${seedwrap:cwd}/link/../x.rs');
    // the same file on both sides is still the same
    expect(changedInput(inputIds(['x.rs'], a), b)).toBeUndefined();
  });
  // `<rustcCwd>//etc/passwd` is the file `<cwd>/etc/passwd` for rustc, but
  // path.resolve(cwd, '/etc/passwd') made both sides stat /etc/passwd.
  it("a double slash after rustc's cwd still names the file below each action's cwd", () => {
    const top = tempDir();
    const side = (n: string, text: string) => {
      const cwd = join(top, n, 'execroot', 'ws');
      mkdirSync(join(cwd, 'etc'), { recursive: true });
      writeFileSync(join(cwd, 'etc', 'passwd'), text);
      return cwd;
    };
    const a = side('sb1', 'one\n');
    const b = side('sb2', 'two, another file\n');
    const ids = inputIds([`${a}//etc/passwd`], a);
    expect(changedInput(ids, b)).toBeDefined();
  });
  // Without a dep-info notification (a command without --emit=dep-info, or a
  // dep-info named by an absolute path) the producer sent no source at all:
  // a message left by an earlier build stood for any edit of the sources.
  it('a producer whose rustc reported no dep-info (relative) does not share', async () => {
    const cwd = tempDir();
    const dir = tempDir();
    crate(cwd);
    const left = await produce(cwd, dir, [META]);
    // the source is edited before the next build's metadata action
    writeFileSync(join(cwd, 'app', 'lib.rs'), 'pub fn g() {}\n');
    const m = left && decode(left);
    const verdict = m && !('reason' in m) ? check(m, 'json', cwd) : { reason: 'no message' };
    expect(verdict).toHaveProperty('reason');
  });
  // A parse error ends rustc before any dep-info: the worker's shared rustc
  // left a `.done` result checked on the --extern files only, so the next
  // build's full request (the syntax error fixed) replayed the old error.
  it("the worker's shared rustc without a dep-info leaves no result to replay", async () => {
    const cwd = tempDir();
    const dir = tempDir();
    crate(cwd);
    const rv = socketIn(dir, 'w'.repeat(32), 'wsock');
    const owner = await SharedRustc.listen(rv, { cwd, args: ['rustc', 'app/lib.rs', '--emit=dep-info,metadata,link', '--json=artifacts'], finished: join(dir, `${'w'.repeat(32)}.msg`) });
    expect(owner).toBeDefined();
    const error = Buffer.from('{"$message_type":"diagnostic","message":"this file contains an unclosed delimiter","level":"error","rendered":"error\\n"}\n');
    owner!.run(async (hooks) => {
      hooks.rawLine(error);
      hooks.onLine(error, 'write');
      return 1;
    });
    await sleep(50);
    const done = join(dir, `${'w'.repeat(32)}.done`);
    const f = existsSync(done) ? decodeFinal(readFileSync(done)) : { reason: 'none' };
    // Either nothing is left, or what is left cannot be used: the source is fixed now.
    writeFileSync(join(cwd, 'app', 'lib.rs'), 'pub fn fixed() {}\n');
    if (!('reason' in f)) expect(f.header.unshareable ?? changedInput(f.header.inputs, cwd)).toBeDefined();
  });
  // The producer took the identities when rustc reported the rmeta, after
  // rustc had read the sources: a source saved in between was recorded with
  // its new identity, so the next build's metadata action (same command, the
  // edited source) took an rmeta of the old source from the message.
  it('a source changed after rustc started is never taken as the one rustc read', async () => {
    const cwd = tempDir();
    const dir = tempDir();
    crate(cwd);
    await sleep(200);
    const left = await produce(cwd, dir, [DEP, META], () => writeFileSync(join(cwd, 'app', 'lib.rs'), 'pub fn g() {}\n'));
    const m = left && decode(left);
    const verdict = m && !('reason' in m) ? check(m, 'json', cwd) : { reason: 'no message' };
    expect(verdict).toHaveProperty('reason');
  });
  // The worker's shared rustc under a stable cwd of its own (the executor
  // store's, src/executor/): it named an OUT_DIR file under that path, which
  // exists only in rustc's namespace, and stat'ed the path literally.
  it("the worker's shared rustc finds an input under rustc's own cwd below the request's cwd", async () => {
    const cwd = tempDir();
    const dir = tempDir();
    const stable = join(tempDir(), 'stable', 'execroot', 'ws');
    crate(cwd);
    mkdirSync(join(cwd, 'out_dir'));
    writeFileSync(join(cwd, 'out_dir', 'gen.rs'), 'pub const X: u32 = 1;\n');
    writeFileSync(join(cwd, 'out', 'app.d'), `out/app.d: app/lib.rs ${stable}/out_dir/gen.rs\n\napp/lib.rs:\n${stable}/out_dir/gen.rs:\n`);
    await sleep(200);
    const key = 'v'.repeat(32);
    const owner = await SharedRustc.listen(socketIn(dir, key, 'wsock'), { cwd, rustcCwd: stable, args: ['rustc', 'app/lib.rs', '--emit=dep-info,metadata,link', '--json=artifacts'], finished: join(dir, `${key}.msg`) });
    owner!.run(async (hooks) => {
      for (const l of [DEP, META]) {
        hooks.rawLine(l);
        hooks.onLine(l, l === META ? 'metadata-done' : 'skip');
      }
      return 0;
    });
    await sleep(50);
    const f = decodeFinal(readFileSync(join(dir, `${key}.done`)));
    expect('reason' in f ? f.reason : f.header.inputs.map(([p]) => p)).toContain('${seedwrap:cwd}/out_dir/gen.rs');
  });

  it('an unchanged source old enough is still taken (control)', async () => {
    const cwd = tempDir();
    const dir = tempDir();
    crate(cwd);
    await sleep(200);
    const left = await produce(cwd, dir, [DEP, META]);
    const m = left && decode(left);
    expect(m && !('reason' in m) ? check(m, 'json', cwd) : { reason: 'no message' }).not.toHaveProperty('reason');
  });
});

describe('attack3: attacks that held', () => {
  it("a path under a sibling whose name extends rustc's cwd (/a/b vs /a/bc/x) is not taken for one under it", () => {
    const top = tempDir();
    const a = join(top, 'b');
    mkdirSync(join(top, 'bc'), { recursive: true });
    mkdirSync(a);
    writeFileSync(join(top, 'bc', 'x'), 'x');
    const ids = inputIds([`${a}c/x`], a);
    expect(ids[0]![0]).toBe(`${a}c/x`);
  });

  it('a rendezvous directory others can write, that is not ours, or a symlink is refused; a planted message is not taken', () => {
    const top = tempDir();
    const open = join(top, 'open');
    mkdirSync(open, { mode: 0o700 });
    chmodSync(open, 0o777);
    expect(rendezvousDir(undefined, { SEEDWRAP_PIPELINE_DIR: open })).toHaveProperty('reason');
    const theirs = join(top, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    if (process.getuid?.() === 0) {
      chownSync(theirs, 4321, 4321);
      expect(rendezvousDir(undefined, { SEEDWRAP_PIPELINE_DIR: theirs })).toHaveProperty('reason');
    }
    const ours = join(top, 'ours');
    mkdirSync(ours, { mode: 0o700 });
    symlinkSync(ours, join(top, 'link'));
    expect(rendezvousDir(undefined, { SEEDWRAP_PIPELINE_DIR: join(top, 'link') })).toHaveProperty('reason');
    expect(rendezvousDir(undefined, { SEEDWRAP_PIPELINE_DIR: ours })).toEqual({ dir: ours });
    // A message that is a symlink, or a file of another uid, is never read.
    writeFileSync(join(top, 'real.msg'), 'x');
    symlinkSync(join(top, 'real.msg'), join(ours, 'a.msg'));
    expect(takeMessage(join(ours, 'a.msg'))).toBeUndefined();
    if (process.getuid?.() === 0) {
      writeFileSync(join(ours, 'b.msg'), 'x', { mode: 0o600 });
      chownSync(join(ours, 'b.msg'), 4321, 4321);
      expect(takeMessage(join(ours, 'b.msg'))).toBeUndefined();
    }
  });
});
