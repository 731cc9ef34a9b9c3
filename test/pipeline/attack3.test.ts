import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from '../../src/pipeline/consumer.ts';
import { decodeFinal } from '../../src/pipeline/final.ts';
import { changedInput, inputIds } from '../../src/pipeline/inputs.ts';
import { decode } from '../../src/pipeline/message.ts';
import { Producer } from '../../src/pipeline/producer.ts';
import { socketIn } from '../../src/pipeline/rendezvous.ts';
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
async function produce(cwd: string, dir: string, lines: Buffer[], during?: () => void): Promise<Buffer | undefined> {
  const rv = socketIn(dir, 'k'.repeat(32));
  const p = new Producer(rv, { cwd, args: ['rustc', 'app/lib.rs', '--emit=dep-info,metadata,link', '--json=artifacts'], leak: undefined });
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
});
