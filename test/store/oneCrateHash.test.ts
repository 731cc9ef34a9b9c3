/**
 * Issue 16, item 1: every change seedwrap makes to rustc's command line is a
 * function of the command line alone. -C incremental changes the crate hash,
 * so if an external crate dropped the flag locally but kept it on a remote
 * executor (whose `<build>/<id>/root` is no Bazel shape), one action key would
 * give two crate hashes: E0460 when local and remote builds share a cache.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { DUMP, NODE, runMain } from '../helpers/wrapper.ts';
import { canNamespace, compile, copyRegistryCrate, haveRustc, RUSTC, rulesRustArgs, writeCrate } from './helpers.ts';

/** Each place an action can stand, made for real: its cwd. */
function layouts(): Record<string, string> {
  const ob = tempDir();
  const made = (rel: string) => {
    mkdirSync(join(ob, rel, 'external', 'local_config_cc'), { recursive: true });
    return join(ob, rel);
  };
  return {
    'local execroot': made('execroot/ws'),
    sandbox: made('sandbox/linux-sandbox/4/execroot/ws'),
    'sandboxed worker': made('bazel-workers/worker-2-Rustc/ws'),
    'remote executor <build>/<id>/root': made('build/9c1e/root'),
    'unknown cwd': (() => {
      const dir = tempDir();
      mkdirSync(join(dir, 'external'));
      return dir;
    })(),
  };
}

/** rustc's argv as the child got it (fixtures/dump.mjs), the child's own cwd written as <pwd>, the incremental flag's directory as <dir>. */
async function childFlags(cwd: string, root: string, incremental: string): Promise<string[]> {
  const r = await runMain(['--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--',
    NODE, DUMP, root, '--crate-name=c', '--crate-type=rlib', '--edition=2018', '--emit=dep-info,link,metadata', '--out-dir=out',
    '-Copt-level=0', '--remap-path-prefix=${pwd}=.', incremental, '--cfg=feature="x"'], { cwd });
  expect(r.exitCode, r.stderr.toString()).toBe(0);
  const dump = JSON.parse(r.stdout.toString()) as { argv: string[]; cwd: string };
  return dump.argv.map((a) => (a.startsWith('-Cincremental=') ? '-Cincremental=<dir>' : a.split(dump.cwd).join('<pwd>')));
}

describe.runIf(canNamespace)('one command line, one set of rustc flags, wherever the action runs', () => {
  const spellings = ['-Cincremental=${output_base}/rustc-incremental', '-Cincremental=${pwd}/../../rustc-incremental'];
  it.each(spellings)('%s: an external crate drops it everywhere, a workspace crate keeps it everywhere', async (incremental) => {
    const where = layouts();
    for (const [root, keeps] of [['external/crate_index__itoa/src/lib.rs', false], ['app/lib.rs', true]] as const) {
      const seen: Record<string, string[]> = {};
      for (const [name, cwd] of Object.entries(where)) seen[name] = await childFlags(cwd, root, incremental);
      const expected = [root, '--crate-name=c', '--crate-type=rlib', '--edition=2018', '--emit=dep-info,link,metadata', '--out-dir=out',
        '-Copt-level=0', '--remap-path-prefix=<pwd>=.', ...(keeps ? ['-Cincremental=<dir>'] : []), '--cfg=feature="x"'];
      for (const name of Object.keys(where)) expect(seen[name], `${root} from the ${name}`).toEqual(expected);
    }
  });
});

describe.runIf(haveRustc)('an external crate built in a remote-shaped directory links with a dependent built in a local execroot', () => {
  it('itoa from <build>/<id>/root and greet (compiled against the local itoa) link and run; no incremental state lands in the input root or the build directory', async () => {
    const ob = tempDir();
    const local = join(ob, 'execroot', 'ws');
    mkdirSync(local, { recursive: true });
    const build = tempDir();
    const remote = join(build, '9c1e', 'root');
    mkdirSync(remote, { recursive: true });

    // The same action (same argv) for itoa, locally and on the "executor".
    for (const cwd of [local, remote]) {
      const root = copyRegistryCrate('itoa', cwd, 'external/crate_index__itoa');
      const r = await compile(cwd, rulesRustArgs(root, 'itoa'));
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
    }

    // greet, a workspace crate, compiled locally against the local itoa's rmeta (pipelining).
    mkdirSync(join(local, 'greet'));
    writeFileSync(join(local, 'greet', 'lib.rs'), 'pub fn greet(n: u64) -> String { let mut b = itoa::Buffer::new(); format!("hello {}", b.format(n)) }\n');
    const greet = await compile(local, rulesRustArgs('greet/lib.rs', 'greet', { rustc: ['--extern=itoa=out/libitoa.rmeta'] }));
    expect(greet.stderr.toString()).toBe('');
    expect(greet.exitCode).toBe(0);

    // The binary links greet with the itoa rlib built remotely.
    const mix = join(ob, 'mix');
    mkdirSync(mix);
    copyFileSync(join(local, 'out', 'libgreet.rlib'), join(mix, 'libgreet.rlib'));
    copyFileSync(join(remote, 'out', 'libitoa.rlib'), join(mix, 'libitoa.rlib'));
    writeFileSync(join(mix, 'main.rs'), 'fn main() { println!("{}", greet::greet(42)); }\n');
    const app = spawnSync(RUSTC, ['main.rs', '--crate-name=app', '--edition=2018', '--extern=greet=libgreet.rlib', '-Ldependency=.', '-o', 'app'], { cwd: mix, encoding: 'utf8' });
    expect(app.stderr).toBe('');
    expect(app.status).toBe(0);
    expect(spawnSync(join(mix, 'app'), { encoding: 'utf8' }).stdout).toBe('hello 42\n');
    expect(existsSync(join(build, 'rustc-incremental'))).toBe(false);
    expect(readdirSync(remote).sort()).toEqual(['external', 'out']);
  });
});

describe.runIf(haveRustc)('an unknown layout compiles cold on purpose (issue 16, item 2)', () => {
  it('in <build>/<id>/root: a private temporary directory outside the build directory, removed afterwards, one debug line, no warning', async () => {
    const build = tempDir();
    const root = join(build, '9c1e', 'root');
    mkdirSync(join(root, 'external', 'local_config_cc'), { recursive: true });
    writeCrate(root);
    const before = readdirSync(root).sort();
    for (const incremental of ['-Cincremental=${output_base}/rustc-incremental', '-Cincremental=${pwd}/../../rustc-incremental', '-Cincremental=rustc-incremental']) {
      const r = await compile(root, rulesRustArgs('app/lib.rs', 'app', { incremental }), { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' });
      expect(r.exitCode, r.stderr.toString()).toBe(0);
      const lines = r.stderr.toString().split('\n').filter((l) => l !== '');
      expect(lines.filter((l) => l.startsWith('seedwrap: debug: store '))).toEqual([expect.stringMatching(/"mode":"cold","reason":".* is not a Bazel execroot, sandbox or worker directory/)]);
      expect(lines.filter((l) => !l.startsWith('seedwrap: debug: '))).toEqual([]);
      const argv = JSON.parse(lines.find((l) => l.startsWith('seedwrap: debug: child argv: '))!.slice('seedwrap: debug: child argv: '.length)) as string[];
      const dir = argv.find((a) => a.startsWith('-Cincremental='))!.slice('-Cincremental='.length);
      expect(dir.startsWith(`${build}/`)).toBe(false);
      expect(existsSync(dir)).toBe(false);
    }
    expect(readdirSync(root).sort()).toEqual(before);
    expect(readdirSync(build)).toEqual(['9c1e']);
  });
});
