import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { compile, haveRustc, RUSTC, rulesRustArgs, writeCrate } from './helpers.ts';

/**
 * rustc's rmeta/rlib bytes can differ between a cold and a warm incremental
 * compile, but the crate hash (SVH) does not: a dependent compiled against the
 * cold build's rmeta (a remote-cache hit made on another machine, say) links
 * with the rlib this machine built from the store. Without -C incremental the
 * crate hash differs, and rustc refuses the mix (E0460): the control that
 * shows this test can fail.
 */
describe.runIf(haveRustc)('crate hash: cold-built rmeta + store-built rlib', () => {
  it('a dependent compiled against the cold rmeta links with the warm rlib and runs; a non-incremental rlib is refused', async () => {
    const ob = tempDir();
    const execroot = join(ob, 'execroot', 'ws');
    writeCrate(execroot);
    const cold = await compile(execroot, rulesRustArgs('app/lib.rs', 'foo'));
    expect(cold.exitCode, cold.stderr.toString()).toBe(0);
    const coldDir = join(execroot, 'cold');
    mkdirSync(coldDir);
    copyFileSync(join(execroot, 'out', 'libfoo.rmeta'), join(coldDir, 'libfoo.rmeta'));
    copyFileSync(join(execroot, 'out', 'libfoo.rlib'), join(coldDir, 'libfoo.rlib'));

    // bar is compiled against foo's cold rmeta only, as a pipelined build does.
    writeFileSync(join(execroot, 'bar.rs'), 'pub fn twice() -> u64 { foo::answer() * 2 }\n');
    mkdirSync(join(execroot, 'bar'));
    const bar = spawnSync(RUSTC, ['bar.rs', '--crate-name=bar', '--crate-type=rlib', '--edition=2018', '--out-dir=bar', `--extern=foo=${join(coldDir, 'libfoo.rmeta')}`], { cwd: execroot, encoding: 'utf8' });
    expect(bar.status, bar.stderr).toBe(0);

    // foo rebuilt from the store: an edit, then its revert, both reusing state.
    const lib = join(execroot, 'app', 'lib.rs');
    const source = readFileSync(lib, 'utf8');
    writeFileSync(lib, `${source}// an edit\n`);
    expect((await compile(execroot, rulesRustArgs('app/lib.rs', 'foo', { rustc: ['-Zassert-incr-state=loaded'] }))).exitCode).toBe(0);
    writeFileSync(lib, source);
    const warm = await compile(execroot, rulesRustArgs('app/lib.rs', 'foo', { rustc: ['-Zassert-incr-state=loaded'] }));
    expect(warm.exitCode, warm.stderr.toString()).toBe(0);

    writeFileSync(join(execroot, 'main.rs'), 'fn main() { println!("{}", bar::twice()); }\n');
    const link = (fooDir: string) =>
      spawnSync(RUSTC, ['main.rs', '--crate-name=main', '--crate-type=bin', '--edition=2018', '-o', join(execroot, 'main'), '--extern=bar=bar/libbar.rlib', `-Ldependency=${fooDir}`], { cwd: execroot, encoding: 'utf8' });
    const linked = link(join(execroot, 'out'));
    expect(linked.status, linked.stderr).toBe(0);
    expect(spawnSync(join(execroot, 'main'), { encoding: 'utf8' }).stdout).toBe('84\n');

    // The control: foo without -C incremental has another crate hash.
    const plainDir = join(execroot, 'plain');
    mkdirSync(plainDir);
    const plain = spawnSync(RUSTC, ['app/lib.rs', '--crate-name=foo', '--crate-type=rlib', '--edition=2018', '--emit=link', `--out-dir=${plainDir}`, '-Copt-level=0', '-Cdebuginfo=0'], { cwd: execroot, encoding: 'utf8' });
    expect(plain.status, plain.stderr).toBe(0);
    const refused = link(plainDir);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/E0460|found possibly newer version of crate `foo`/);
  });
});
