import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { BUNDLE, NODE } from '../helpers/wrapper.ts';
import { appendComment, canNamespace, compile, copyRegistryCrate, crateDirsIn, haveRustc, RUSTC, rulesRustArgs, writeCrate } from './helpers.ts';

const LOADED = ['-Zassert-incr-state=loaded'];
const isRoot = process.getuid?.() === 0;

/**
 * A remote executor's layout (Buildbarn with a native build directory):
 * `<build>/<id>/root` is the action's input root and cwd, a new `<id>` per
 * action; the executor's runner adds SEEDWRAP_EXECUTOR_* to every action's
 * environment (never to the action key).
 */
function executor(tmp: string) {
  const build = join(tmp, 'build');
  const store = join(tmp, 'store');
  mkdirSync(build);
  mkdirSync(store, { mode: 0o755 });
  const env = (extra: Record<string, string> = {}) => ({ SEEDWRAP_EXECUTOR_STORE: store, SEEDWRAP_EXECUTOR_BUILD_DIR: build, ...extra });
  const action = (id: string, tail = '') => {
    const root = join(build, id, 'root');
    writeCrate(root, tail);
    return root;
  };
  return { build, store, env, action };
}

/** Every `<tenant>/<compiler>` directory of the store. */
function storeLevels(store: string): string[] {
  return readdirSync(store).flatMap((t) => readdirSync(join(store, t)).filter((c) => !c.startsWith('.')).map((c) => `${t}/${c}`));
}

describe.runIf(haveRustc && canNamespace)('the executor store, real rustc in executor-shaped directories', () => {
  it('the second action, in another <id>, loads the session the first left; the state is only in the store', async () => {
    const ex = executor(tempDir());
    const first = ex.action('a1');
    const cold = await compile(first, rulesRustArgs('app/lib.rs', 'app'), ex.env());
    expect(cold.stderr.toString()).toBe('');
    expect(cold.exitCode).toBe(0);
    const second = ex.action('b2', '// a comment edit\n');
    const warm = await compile(second, rulesRustArgs('app/lib.rs', 'app', { rustc: LOADED }), ex.env({ RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' }));
    // With the debug variable: where it ran and which store it used, in one line each.
    const said = warm.stderr.toString();
    expect(said).toMatch(new RegExp(`^seedwrap: debug: executor store \\{"tenant":"default","compiler":"[0-9a-f]{16}","store":"${ex.store}/default/[0-9a-f]{16}","cwd":"${ex.build}/\\.seedwrap-stable/root"\\}$`, 'm'));
    expect(said).toMatch(/^seedwrap: debug: store \{.*"mode":"store".*"previous":true/m);
    // The store proper is one seedwrap manages (its marker, src/store/owner.ts): eviction and the exit-101 drop apply.
    expect(said).not.toMatch(/"managed":/);
    expect(existsSync(join(ex.store, storeLevels(ex.store)[0]!, '.seedwrap-store'))).toBe(true);
    expect(said.split('\n').filter((l) => l !== '' && !l.startsWith('seedwrap: debug: '))).toEqual([]);
    expect(warm.exitCode).toBe(0);
    expect(readdirSync(join(second, 'out'))).toContain('libapp.rlib');
    // <store>/default/<compiler>/<partition>/app-<id>, nothing in the build directory or the input roots.
    expect(storeLevels(ex.store)).toEqual([expect.stringMatching(/^default\/[0-9a-f]{16}$/)]);
    expect(crateDirsIn(join(ex.store, storeLevels(ex.store)[0]!)).map((d) => d.split('/').at(-1))).toEqual([expect.stringMatching(/^app-\w+$/)]);
    // The mounts were tried once, and that is remembered beside the store proper.
    expect(readdirSync(join(ex.store, 'default')).filter((n) => n.startsWith('.'))).toEqual([expect.stringMatching(/^\.seedwrap-mounts-ok-[0-9a-f]{16}$/)]);
    expect(readdirSync(ex.build).sort()).toEqual(['.seedwrap-stable', 'a1', 'b2']);
    expect(readdirSync(join(ex.build, '.seedwrap-stable'))).toEqual([]);
    expect(readdirSync(second).sort()).toEqual(['app', 'out']);
  });

  it('an input root with external/ (upstream\'s ${output_base} is then the input root itself) is reused the same way', async () => {
    const ex = executor(tempDir());
    for (const [id, extra] of [['e1', []], ['e2', LOADED]] as const) {
      const root = ex.action(id, `// action ${id}\n`);
      mkdirSync(join(root, 'external', 'some_repo'), { recursive: true });
      const r = await compile(root, rulesRustArgs('app/lib.rs', 'app', { rustc: [...extra] }), ex.env());
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
    }
  });

  it('concurrent actions, each in its own namespace at the same stable path, all succeed; the next one loads the state', async () => {
    const ex = executor(tempDir());
    const runs = await Promise.all(['c1', 'c2', 'c3'].map((id, i) => compile(ex.action(id, `// action ${i}\n`), rulesRustArgs('app/lib.rs', 'app'), ex.env())));
    for (const r of runs) {
      expect(r.stderr.toString()).toBe('');
      expect(r.exitCode).toBe(0);
    }
    for (const id of ['c1', 'c2', 'c3']) expect(readdirSync(join(ex.build, id, 'root', 'out'))).toContain('libapp.rlib');
    const next = await compile(ex.action('c4', '// later\n'), rulesRustArgs('app/lib.rs', 'app', { rustc: LOADED }), ex.env());
    expect(next.stderr.toString()).toBe('');
    expect(next.exitCode).toBe(0);
  });

  it('exit 101 on damaged state in the executor store: the local store\'s retry drops it, compiles once more, and the next action loads fresh state', async () => {
    const ex = executor(tempDir());
    const first = ex.action('1');
    const root = copyRegistryCrate('itoa', first, 'itoa');
    expect((await compile(first, rulesRustArgs(root, 'itoa'), ex.env())).exitCode).toBe(0);
    const [crateDir] = crateDirsIn(join(ex.store, storeLevels(ex.store)[0]!));
    const session = readdirSync(crateDir!).find((n) => n.startsWith('s-') && !n.endsWith('.lock'))!;
    // Bytes overwritten inside dep-graph.bin: rustc 1.95 panics decoding it (exit 101, measured in manage.test.ts).
    const fd = openSync(join(crateDir!, session, 'dep-graph.bin'), 'r+');
    writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, 2000);
    closeSync(fd);
    const second = ex.action('2');
    copyRegistryCrate('itoa', second, 'itoa');
    const r = await compile(second, rulesRustArgs(root, 'itoa'), ex.env());
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(r.stderr.toString()).toMatch(/seedwrap: rustc ended with an internal compiler error \(exit 101\) using the store; dropped itoa's incremental state in \S+ and compiling once more from cold\n/);
    const third = ex.action('3');
    copyRegistryCrate('itoa', third, 'itoa');
    appendComment(join(third, root));
    const next = await compile(third, rulesRustArgs(root, 'itoa', { rustc: LOADED }), ex.env());
    expect(next.stderr.toString()).toBe('');
    expect(next.exitCode).toBe(0);
  });

  it('the size cap evicts least recently used crates of the same tenant and compiler, never another tenant\'s', async () => {
    const ex = executor(tempDir());
    const hourAgo = new Date(Date.now() - 3_600_000);
    expect((await compile(ex.action('1'), rulesRustArgs('app/lib.rs', 'old'), ex.env())).exitCode).toBe(0);
    expect((await compile(ex.action('2'), rulesRustArgs('app/lib.rs', 'other'), ex.env({ SEEDWRAP_EXECUTOR_TENANT: 'team-b' }))).exitCode).toBe(0);
    const [mine = '', theirs = ''] = ['default', 'team-b'].map((t) => {
      const [level] = storeLevels(ex.store).filter((l) => l.startsWith(`${t}/`));
      const [crate] = crateDirsIn(join(ex.store, level!));
      utimesSync(crate!, hourAgo, hourAgo);
      rmSync(join(ex.store, level!, '.seedwrap-evicted'), { force: true });
      return crate!;
    });
    const r = await compile(ex.action('3'), rulesRustArgs('app/lib.rs', 'fresh'), ex.env({ SEEDWRAP_STORE_MAX_MB: '0' }));
    expect(r.stderr.toString()).toBe('');
    expect(r.exitCode).toBe(0);
    expect(existsSync(mine)).toBe(false);
    expect(existsSync(theirs)).toBe(true);
    expect(crateDirsIn(join(ex.store, storeLevels(ex.store).find((l) => l.startsWith('default/'))!)).map((d) => d.split('/').at(-1))).toEqual([expect.stringMatching(/^fresh-/)]);
  });

  it('a control: the same two actions without the executor variables do not reuse the session', async () => {
    const ex = executor(tempDir());
    expect((await compile(ex.action('a1'), rulesRustArgs('app/lib.rs', 'app'))).exitCode).toBe(0);
    const warm = await compile(ex.action('b2', '// edit\n'), rulesRustArgs('app/lib.rs', 'app', { rustc: LOADED }));
    expect(warm.exitCode).not.toBe(0);
    expect(warm.stderr.toString()).toMatch(/existing incremental cache directory should be successfully loaded/);
  });

  it('two tenants never share state: tenant b does not load what tenant a left, a loads its own', async () => {
    const ex = executor(tempDir());
    const a = ex.env({ SEEDWRAP_EXECUTOR_TENANT: 'team-a' });
    const b = ex.env({ SEEDWRAP_EXECUTOR_TENANT: 'team-b' });
    expect((await compile(ex.action('1'), rulesRustArgs('app/lib.rs', 'app'), a)).exitCode).toBe(0);
    const other = await compile(ex.action('2', '// edit\n'), rulesRustArgs('app/lib.rs', 'app', { rustc: LOADED }), b);
    expect(other.exitCode).not.toBe(0);
    expect(other.stderr.toString()).toMatch(/existing incremental cache directory should be successfully loaded/);
    const own = await compile(ex.action('3', '// edit 2\n'), rulesRustArgs('app/lib.rs', 'app', { rustc: LOADED }), a);
    expect(own.stderr.toString()).toBe('');
    expect(own.exitCode).toBe(0);
    expect(readdirSync(ex.store).sort()).toEqual(['team-a', 'team-b']);
  });

  it("outputs link with a local-shaped run's: a crate compiled locally against the local rmeta links with the remote, store-built rlib; a non-incremental remote rlib is refused (E0460)", async () => {
    const tmp = tempDir();
    const ex = executor(tmp);
    const local = join(tmp, 'ob', 'execroot', 'ws');
    // dep: compiled locally (local store) and remotely (executor store, warm after an edit and its revert).
    writeCrate(local);
    expect((await compile(local, rulesRustArgs('app/lib.rs', 'dep'))).exitCode).toBe(0);
    expect((await compile(ex.action('1'), rulesRustArgs('app/lib.rs', 'dep'), ex.env())).exitCode).toBe(0);
    expect((await compile(ex.action('2', '// edit\n'), rulesRustArgs('app/lib.rs', 'dep', { rustc: LOADED }), ex.env())).exitCode).toBe(0);
    const remote = ex.action('3');
    const warm = await compile(remote, rulesRustArgs('app/lib.rs', 'dep', { rustc: LOADED }), ex.env());
    expect(warm.exitCode, warm.stderr.toString()).toBe(0);
    // mid: compiled locally against the local dep's rmeta, as a pipelined build does.
    writeFileSync(join(local, 'mid.rs'), 'pub fn twice() -> u64 { dep::answer() * 2 }\n');
    writeFileSync(join(local, 'main.rs'), 'fn main() { std::process::exit((mid::twice() - 84) as i32) }\n');
    const rustc = (args: string[]) => spawnSync(RUSTC, ['--edition=2018', ...args], { cwd: local, encoding: 'utf8' });
    expect(rustc(['mid.rs', '--crate-name=mid', '--crate-type=rlib', '--out-dir=out', '--extern=dep=out/libdep.rmeta']).status).toBe(0);
    // The binary links the remote rlib of dep with the local mid.
    mkdirSync(join(local, 'remote'));
    copyFileSync(join(remote, 'out', 'libdep.rlib'), join(local, 'remote', 'libdep.rlib'));
    const link = rustc(['main.rs', '--crate-name=main', '--crate-type=bin', '-o', 'main', '--extern=mid=out/libmid.rlib', '--extern=dep=remote/libdep.rlib', '-Ldependency=remote']);
    expect(link.status, link.stderr).toBe(0);
    expect(spawnSync(join(local, 'main')).status).toBe(0);
    // The control: dep built remotely without -C incremental has another crate hash.
    const plain = ex.action('4');
    expect((await compile(plain, rulesRustArgs('app/lib.rs', 'dep', { incremental: '-Copt-level=0' }), ex.env())).exitCode).toBe(0);
    copyFileSync(join(plain, 'out', 'libdep.rlib'), join(local, 'remote', 'libdep.rlib'));
    const refused = rustc(['main.rs', '--crate-name=main', '--crate-type=bin', '-o', 'main2', '--extern=mid=out/libmid.rlib', '--extern=dep=remote/libdep.rlib', '-Ldependency=remote']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/error\[E0460\]: found possibly newer version of crate `dep`/);
  });

  describe('a forged, relative or symlinked store is refused with one line and the compile goes on', () => {
    const cases: Array<[string, (tmp: string, store: string) => Record<string, string>, RegExp]> = [
      ['a relative path', () => ({ SEEDWRAP_EXECUTOR_STORE: 'store' }), /SEEDWRAP_EXECUTOR_STORE="store" is not an absolute path/],
      ['a path with ..', (tmp) => ({ SEEDWRAP_EXECUTOR_STORE: `${tmp}/build/../store` }), /is not a normalised absolute path/],
      ['a symlink to the store', (tmp, store) => {
        symlinkSync(store, join(tmp, 'link'));
        return { SEEDWRAP_EXECUTOR_STORE: join(tmp, 'link') };
      }, /goes through a symlink \(it resolves to /],
      ['a store writable by others', (tmp) => {
        mkdirSync(join(tmp, 'open'));
        chmodSync(join(tmp, 'open'), 0o777);
        return { SEEDWRAP_EXECUTOR_STORE: join(tmp, 'open') };
      }, /is writable by group or others \(mode 777\)/],
      ['a store the executor did not create', (tmp) => ({ SEEDWRAP_EXECUTOR_STORE: join(tmp, 'nowhere') }), /cannot be resolved \(.*ENOENT.*\); the executor must create it/],
      ['a store inside the build directory', (tmp) => {
        mkdirSync(join(tmp, 'build', 'cache'));
        return { SEEDWRAP_EXECUTOR_STORE: join(tmp, 'build', 'cache') };
      }, /overlap \(the executor empties its build directory\)/],
      ['a cwd outside the build directory (as in a chroot into the input root)', (tmp) => {
        mkdirSync(join(tmp, 'other-build'));
        return { SEEDWRAP_EXECUTOR_BUILD_DIR: join(tmp, 'other-build') };
      }, /the action's directory \S+ is not under SEEDWRAP_EXECUTOR_BUILD_DIR="\S+other-build"/],
      ['a build directory without a store', () => ({ SEEDWRAP_EXECUTOR_STORE: '' }), /SEEDWRAP_EXECUTOR_BUILD_DIR is set but SEEDWRAP_EXECUTOR_STORE is not/],
      ['a tenant that is a path', () => ({ SEEDWRAP_EXECUTOR_TENANT: '../team-b' }), /SEEDWRAP_EXECUTOR_TENANT="\.\.\/team-b" is not a name/],
      ['a symlink planted at a tenant', (_tmp, store) => {
        mkdirSync(join(store, 'team-b'));
        symlinkSync(join(store, 'team-b'), join(store, 'team-a'));
        return { SEEDWRAP_EXECUTOR_TENANT: 'team-a' };
      }, /team-a is not a directory \(a symlink or a file\)/],
    ];
    for (const [what, forge, said] of cases) {
      it(what, async () => {
        const tmp = tempDir();
        const ex = executor(tmp);
        const env = { ...ex.env(), ...forge(tmp, ex.store) };
        const r = await compile(ex.action('1'), rulesRustArgs('app/lib.rs', 'app'), env);
        expect(r.exitCode, r.stderr.toString()).toBe(0);
        const lines = r.stderr.toString().split('\n').filter((l) => l !== '');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^seedwrap: executor store: .*; compiling from cold$/);
        expect(lines[0]).toMatch(said);
        expect(crateDirsIn(ex.store).filter((d) => !d.includes('team-b'))).toEqual([]);
        expect(existsSync(join(ex.build, '.seedwrap-stable'))).toBe(false);
        // Cold as for any unknown layout: nothing left in the build directory or the input root.
        expect(readdirSync(ex.build).filter((n) => n !== 'cache')).toEqual(['1']);
        expect(readdirSync(join(ex.build, '1', 'root')).sort()).toEqual(['app', 'out']);
      });
    }
  });

  // A SIMULATION of an executor where no mount namespace can be made (a
  // container without CAP_SYS_ADMIN or unshare): inside a private mount
  // namespace of this test only, a script that fails the way unshare does
  // there is bound over /usr/bin/unshare, where src/stableCwd.ts finds it.
  // The machine's unshare is never touched; the namespace ends with the run.
  it.runIf(isRoot && existsSync(BUNDLE))('no namespace, or no mounts (simulated: a failing unshare or mount in the test\'s own mount namespace): one warning and a cold compile', () => {
    const tmp = tempDir();
    const ex = executor(tmp);
    const root = ex.action('1');
    const fake = join(tmp, 'unshare');
    writeFileSync(fake, '#!/bin/sh\necho "unshare: unshare failed: Operation not permitted" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    const script = 'mount --bind "$1" /usr/bin/unshare || exit 90; cd "$2" || exit 91; shift 2; exec "$@"';
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...ex.env() };
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', fake, root, NODE, '--', BUNDLE, ...rulesRustArgs('app/lib.rs', 'app')], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^seedwrap: executor store: no mount namespace can be created here: \S*unshare --mount: unshare: unshare failed: Operation not permitted; .*; compiling from cold\n$/);
    expect(readdirSync(join(root, 'out'))).toContain('libapp.rlib');
    expect(crateDirsIn(join(ex.store, storeLevels(ex.store)[0] ?? 'none'))).toEqual([]);
    // A SIMULATION of a build directory where the namespace can be made but its
    // mounts fail (a FUSE build directory, say): a failing mount(8) bound over
    // /usr/bin/mount the same way. One warning naming it, a cold compile, and
    // nothing remembered: the next action tries again.
    const badMount = join(tmp, 'mount');
    writeFileSync(badMount, '#!/bin/sh\necho "mount: $4: permission denied." >&2\nexit 32\n');
    chmodSync(badMount, 0o755);
    const m = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script.replace('/usr/bin/unshare', '/usr/bin/mount'), 'sh', badMount, root, NODE, '--', BUNDLE, ...rulesRustArgs('app/lib.rs', 'app')], { env, encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    expect(m.stderr).toMatch(new RegExp(`^seedwrap: executor store: the namespace cannot be set up in ${ex.build}: mount: \\S+: permission denied\\.; compiling from cold\n$`));
    expect(readdirSync(join(ex.store, 'default')).filter((n) => n.startsWith('.'))).toEqual([]);
    // The control: the same run without the fake unshare uses the store.
    execFileSync(NODE, ['--', BUNDLE, ...rulesRustArgs('app/lib.rs', 'app')], { cwd: root, env, stdio: 'pipe' });
    expect(crateDirsIn(join(ex.store, storeLevels(ex.store)[0]!))).toHaveLength(1);
  });
});
