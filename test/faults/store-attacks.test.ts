/**
 * A fresh attack sweep on the store (after issue 15's fixes): each test is
 * one finding, failing before its fix. Everything happens in this test's own
 * temp directories: symlinks and hard links point at a "victim" tree made
 * here, compared byte for byte and mode for mode (fingerprint) before and
 * after. Most tests use a small fixture "rustc" (a shell script, not rustc)
 * that makes rustc's session layout under -C incremental
 * (`<dir>/<crate>-1abc/s-<t>-<pid>{.lock,-working → -svh1}`, the lock held
 * with flock while it runs), so eviction and clean-up have real sessions to
 * act on.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { planStableCwd } from '../../src/stableCwd.ts';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { runWorker } from '../../src/worker/index.ts';
import { main } from '../../src/wrapper/main.ts';
import { runBundle, runMain } from '../helpers/wrapper.ts';
import { WorkerClient } from '../worker/client.ts';
import { canMount, fingerprint, mountTmpfs, onCleanup, scratch, umount } from './helpers.ts';

/** The fixture rustc: rustc's session layout under -C incremental, nothing else (FAKE_EXIT: its exit code). */
const FLOCK = ['/usr/bin/flock', '/bin/flock'].find((p) => existsSync(p)) ?? 'flock';
const FAKE_RUSTC = `#!/bin/sh
for a; do case $a in --crate-name=*) n=\${a#--crate-name=};; -Cincremental=*) d=\${a#-Cincremental=};; esac; done
[ -n "$d" ] || exit \${FAKE_EXIT:-0}
c="$d/$n-1abc"; mkdir -p "$c" || exit 1
s=$(date +%s%N)-$$
exec 9>"$c/s-$s.lock"; ${FLOCK} 9
mkdir "$c/s-$s-working" && echo state > "$c/s-$s-working/dep-graph.bin"
mv "$c/s-$s-working" "$c/s-$s-svh1"
exit \${FAKE_EXIT:-0}
`;

const DEBUG = { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' };
const HOUR_AGO = Date.now() / 1000 - 3600;

interface World {
  base: string;
  /** `<base>/execroot/ws`: a local execroot (bazelLayout's `execroot`). */
  execroot: string;
  /** `<base>/rustc-incremental`, as `${output_base}/rustc-incremental` maps locally. */
  store: string;
  tmp: string;
  victim: string;
  rustc: string;
}

/** A local execroot, its output base, a TMPDIR of its own and a victim tree outside the store, every entry an hour old. */
function world(): World {
  const base = scratch('store-attack');
  const execroot = join(base, 'execroot', 'ws');
  mkdirSync(execroot, { recursive: true });
  const tmp = join(base, 'tmp');
  mkdirSync(tmp);
  const victim = join(base, 'victim');
  for (const d of ['abcdefabcdef/zzz-1abc/s-1-2-svh', 'app-1abc/s-1-2-svh']) {
    mkdirSync(join(victim, d), { recursive: true });
    writeFileSync(join(victim, d, 'data'), `precious ${d}\n`);
  }
  writeFileSync(join(victim, 'file'), 'do not touch\n');
  for (const p of ['abcdefabcdef/zzz-1abc/s-1-2-svh', 'abcdefabcdef/zzz-1abc', 'abcdefabcdef', 'app-1abc/s-1-2-svh', 'app-1abc', 'file', '.']) utimesSync(join(victim, p), HOUR_AGO, HOUR_AGO);
  const rustc = join(base, 'fake-rustc');
  writeFileSync(rustc, FAKE_RUSTC);
  chmodSync(rustc, 0o755);
  return { base, execroot, store: join(base, 'rustc-incremental'), tmp, victim, rustc };
}

function args(w: World, incremental = w.store, program = w.rustc): string[] {
  return ['--', program, 'app/lib.rs', '--crate-name=app', '--crate-type=rlib', '--out-dir=out', `-Cincremental=${incremental}`];
}

function run(w: World, argv: string[], env: Record<string, string> = {}, signal?: AbortSignal) {
  return runMain(argv, { cwd: w.execroot, env: { TMPDIR: w.tmp, ...env }, signal });
}

/** Mode, size, content, link count and times of one file. */
function fileState(path: string) {
  const st = statSync(path);
  return { mode: st.mode, size: st.size, nlink: st.nlink, mtimeMs: st.mtimeMs, atimeMs: st.atimeMs };
}

describe('store attacks, fresh sweep (fixture rustc)', () => {
  describe('a cold incremental directory is removed however the action ends', () => {
    it('a child that cannot be started (ENOENT): the private directory in TMPDIR is gone', async () => {
      const w = world();
      writeFileSync(join(w.base, 'file'), '');
      // The store cannot be made (its parent is a file): a cold compile in TMPDIR.
      const r = await run(w, args(w, join(w.base, 'file', 'store'), join(w.base, 'no-such-rustc')));
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr.toString()).toMatch(/failed to spawn child process/);
      expect(readdirSync(w.tmp)).toEqual([]);
    });

    it('stderr that is not rustc JSON (the action fails before the store finishes): nothing left in TMPDIR', async () => {
      const w = world();
      writeFileSync(join(w.base, 'file'), '');
      const noisy = join(w.base, 'noisy-rustc');
      writeFileSync(noisy, '#!/bin/sh\necho "not json" >&2\nexit 1\n');
      chmodSync(noisy, 0o755);
      const r = await run(w, ['--rustc-output-format', 'rendered', ...args(w, join(w.base, 'file', 'store'), noisy), '--error-format=json']);
      expect(r.exitCode).not.toBe(0);
      expect(readdirSync(w.tmp)).toEqual([]);
    });

    it('SIGTERM before the child starts: exit 143 and nothing left in TMPDIR', async () => {
      const w = world();
      writeFileSync(join(w.base, 'file'), '');
      const c = new AbortController();
      c.abort('SIGTERM');
      const r = await run(w, args(w, join(w.base, 'file', 'store')), {}, c.signal);
      expect(r.exitCode).toBe(143);
      expect(readdirSync(w.tmp)).toEqual([]);
    });
  });

  it('.seedwrap-evicted as a hard link to a file elsewhere: that file keeps its content, mode and times', async () => {
    const w = world();
    expect((await run(w, args(w))).exitCode).toBe(0);
    const victimFile = join(w.victim, 'file');
    rmSync(join(w.store, '.seedwrap-evicted'));
    linkSync(victimFile, join(w.store, '.seedwrap-evicted'));
    const fp = fingerprint(w.victim);
    utimesSync(victimFile, HOUR_AGO, HOUR_AGO); // fingerprint read it: its atime, an hour ago again
    const before = fileState(victimFile);
    const r = await run(w, args(w), { ...DEBUG, SEEDWRAP_STORE_MAX_MB: '0' });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(r.stderr.toString()).toMatch(/\.seedwrap-evicted had 2 links; removed/);
    // The link is gone from the store, so the count drops back to 1; nothing else changes.
    expect(fileState(victimFile)).toEqual({ ...before, nlink: 1 });
    expect(new Map([...fingerprint(w.victim)].map(([k, e]) => [k, { ...e, nlink: 0 }]))).toEqual(new Map([...fp].map(([k, e]) => [k, { ...e, nlink: 0 }])));
    expect(lstatSync(join(w.store, '.seedwrap-evicted')).nlink).toBe(1);
  });

  it('.seedwrap-evict.lock as a hard link to another program\'s lock file: never flocked, removed from the store', async () => {
    const w = world();
    expect((await run(w, args(w))).exitCode).toBe(0);
    const theirs = join(w.victim, 'file');
    rmSync(join(w.store, '.seedwrap-evict.lock'));
    rmSync(join(w.store, '.seedwrap-evicted'));
    linkSync(theirs, join(w.store, '.seedwrap-evict.lock'));
    const r = await run(w, args(w), { ...DEBUG, SEEDWRAP_STORE_MAX_MB: '0' });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(r.stderr.toString()).toMatch(/\.seedwrap-evict\.lock had 2 links; removed/);
    expect(statSync(theirs).nlink).toBe(1);
  });

  it('a store path through a symlink planted in a directory anyone can write (/tmp-like, mode 1777): refused, nothing made where it leads', async () => {
    const w = world();
    const shared = scratch('store-attack-shared');
    chmodSync(shared, 0o1777);
    const empty = scratch('store-attack-empty');
    symlinkSync(empty, join(shared, 'rustc-store'));
    symlinkSync(w.victim, join(shared, 'other-store'));
    const fp = fingerprint(w.victim);
    for (const store of ['rustc-store', 'other-store']) {
      const r = await run(w, args(w, join(shared, store)));
      expect(r.exitCode, r.stderr.toString()).toBe(0);
      expect(r.stderr.toString()).toMatch(/is a symbolic link in a directory anyone can write/);
    }
    // The user's own link (in a directory only they write) leading to a planted one there: a chain is walked, not resolved.
    const mine = scratch('store-attack-mine');
    symlinkSync(join(shared, 'rustc-store'), join(mine, 'store'));
    const chained = await run(w, args(w, join(mine, 'store')));
    expect(chained.stderr.toString()).toMatch(/rustc-store is a symbolic link in a directory anyone can write/);
    expect(readdirSync(empty)).toEqual([]);
    expect(fingerprint(w.victim)).toEqual(fp);
    expect(readdirSync(w.tmp)).toEqual([]);
    // A real directory there is a store as before.
    mkdirSync(join(shared, 'real'));
    const r = await run(w, args(w, join(shared, 'real', 'store')), DEBUG);
    expect(r.stderr.toString()).toMatch(/"mode":"store"/);
  });

  it('PATH with an empty (relative) entry: eviction never runs a flock planted in the action\'s cwd', async () => {
    const w = world();
    expect((await run(w, args(w))).exitCode).toBe(0);
    const proof = join(w.base, 'planted-flock-ran');
    writeFileSync(join(w.execroot, 'flock'), `#!/bin/sh\n: > ${proof}\nexit 0\n`);
    chmodSync(join(w.execroot, 'flock'), 0o755);
    rmSync(join(w.store, '.seedwrap-evicted'));
    // The built bundle as a real process: flock(1) is looked up in the process's own PATH.
    const r = await runBundle(args(w), { cwd: w.execroot, env: { PATH: ':/usr/bin:/bin', TMPDIR: w.tmp, SEEDWRAP_STORE_MAX_MB: '0', ...DEBUG } });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(existsSync(proof)).toBe(false);
    expect(existsSync(join(w.store, '.seedwrap-evicted'))).toBe(true);
  });

  it.runIf(canMount)('a store out of inodes that has lost its stamp: eviction still runs and frees it (tmpfs)', async () => {
    const w = world();
    const store = join(w.base, 'small-store');
    mountTmpfs(store, 'size=1m,nr_inodes=24');
    onCleanup(() => umount(store));
    const env = { ...DEBUG, SEEDWRAP_STORE_MIN_FREE_MB: '0' };
    expect((await run(w, args(w, store), env)).exitCode).toBe(0);
    const part = readdirSync(store).find((n) => /^[0-9a-f]{12}$/.test(n));
    expect(part).toBeDefined();
    const fill = () => {
      for (let i = 0; i < 100; i++) {
        try {
          mkdirSync(join(store, part!, `old${i}-1abc`));
          utimesSync(join(store, part!, `old${i}-1abc`), HOUR_AGO, HOUR_AGO);
        } catch {
          return;
        }
      }
    };
    fill();
    rmSync(join(store, '.seedwrap-evicted'));
    fill();
    const r = await run(w, args(w, store), { ...env, SEEDWRAP_STORE_MAX_MB: '0' });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(r.stderr.toString()).not.toMatch(/eviction failed/);
    expect(r.stderr.toString()).toMatch(/"evicted":\[/);
  });

  describe('another name for the output base does not get past the allow-list', () => {
    for (const [what, make] of [
      ['/proc/self/root/<ob>/execroot', (w: World) => `/proc/self/root${w.base}/execroot`],
      ['/proc/self/cwd/x (in the execroot)', () => '/proc/self/cwd/x'],
      ['a symlink elsewhere to <ob>/execroot', (w: World) => {
        const elsewhere = scratch('store-attack-alias');
        symlinkSync(join(w.base, 'execroot'), join(elsewhere, 'alias'));
        return join(elsewhere, 'alias');
      }],
    ] as const) {
      it(`-Cincremental=${what}: refused with one line, nothing made in Bazel's directories, the build succeeds`, async () => {
        const w = world();
        const dir = (make as (w: World) => string)(w);
        const before = fingerprint(join(w.base, 'execroot'));
        // The built bundle as a real process: /proc/self/cwd is its cwd.
        const r = await runBundle(args(w, dir), { cwd: w.execroot, env: { TMPDIR: w.tmp } });
        expect(r.exitCode, r.stderr.toString()).toBe(0);
        expect(r.stderr.toString()).toMatch(/leads to .*; compiling from cold in a private temporary directory/);
        expect(fingerprint(join(w.base, 'execroot'))).toEqual(before);
      });
    }

    it('the worker\'s --worker-incremental-dir /proc/self/root/<ob>/execroot: refused per request, the execroot untouched', async () => {
      const w = world();
      const rustc = join(w.base, 'rustc-fixture'); // wantsStore: a program named rustc*
      writeFileSync(rustc, FAKE_RUSTC);
      chmodSync(rustc, 0o755);
      const before = fingerprint(join(w.base, 'execroot'));
      const stdin = new PassThrough();
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const exit = runWorker(['--worker-incremental-dir', `/proc/self/root${w.base}/execroot`], { stdin, stdout, stderr, cwd: w.execroot, env: { PATH: process.env.PATH!, TMPDIR: w.tmp } }, main);
      const client = new WorkerClient(stdin, stdout, 'proto');
      const r = await client.request({ requestId: 1, arguments: ['--', rustc, 'app/lib.rs', '--crate-name=app', '--crate-type=rlib', '--out-dir=out'] });
      client.end();
      await exit;
      expect(r.exitCode, r.output).toBe(0);
      expect(r.output).toMatch(/leads to .*; compiling from cold/);
      expect(fingerprint(join(w.base, 'execroot'))).toEqual(before);
      expect(readdirSync(w.tmp)).toEqual([]);
    });

    it('the same name for a directory of its own in the output base is still a store', async () => {
      const w = world();
      const r = await run(w, args(w, `/proc/self/root${w.store}`), DEBUG);
      expect(r.exitCode, r.stderr.toString()).toBe(0);
      expect(r.stderr.toString()).toMatch(/"mode":"store"/);
    });
  });
});

/**
 * Swaps `a` and `b` (a directory and a symlink) with renameat2's
 * RENAME_EXCHANGE in a tight loop until killed: the path never goes missing,
 * so set-up never makes it afresh, and every lookup sees one or the other.
 */
const SWAPPER = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = (os.fsencode(p) for p in sys.argv[1:3])
AT_FDCWD, RENAME_EXCHANGE = -100, 2
print('ready', flush=True)
while True:
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        sys.exit(ctypes.get_errno())
`;
const PYTHON = ['/usr/bin/python3', '/bin/python3'].find((p) => existsSync(p));
const canNamespace = planStableCwd({ kind: 'sandbox', outputBase: '/x', workspace: 'ws', execroot: '/x/execroot/ws', bazelOut: '/x/execroot/ws/bazel-out', actionDirs: '/x/sandbox' }).kind === 'stable';

describe.runIf(canNamespace && PYTHON)('a directory above the store swapped for a symlink while compiles run (the store below a --sandbox_writable_path)', () => {
  it('30 sandbox-shaped compiles, the store\'s parent exchanged with a symlink to a victim in a tight loop: the victim is untouched', async () => {
    const w = world();
    const ob = w.base;
    const sandbox = join(ob, 'sandbox', 'linux-sandbox', '1', 'execroot', 'ws');
    mkdirSync(sandbox, { recursive: true });
    mkdirSync(join(sandbox, 'out'));
    // The store `<ob>/rustc-incremental/myrepo`, named as rules_rust 0.9 does from the sandbox.
    const parent = join(ob, 'rustc-incremental');
    mkdirSync(join(parent, 'myrepo'), { recursive: true });
    mkdirSync(join(w.victim, 'myrepo'));
    writeFileSync(join(w.victim, 'myrepo', 'keep'), 'precious\n');
    utimesSync(join(w.victim, 'myrepo', 'keep'), HOUR_AGO, HOUR_AGO);
    utimesSync(join(w.victim, 'myrepo'), HOUR_AGO, HOUR_AGO);
    utimesSync(w.victim, HOUR_AGO, HOUR_AGO);
    symlinkSync(w.victim, join(ob, 'swap-link'));
    const before = fingerprint(w.victim);
    const script = join(ob, 'swapper.py');
    writeFileSync(script, SWAPPER);
    const swapper = spawn(PYTHON!, [script, parent, join(ob, 'swap-link')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = swapper.pid!;
    onCleanup(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    });
    await new Promise((ok) => swapper.stdout!.once('data', ok));
    const codes: number[] = [];
    const said: string[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const r = await runMain(['--', w.rustc, 'app/lib.rs', '--crate-name=app', '--crate-type=rlib', '--out-dir=out', `-Cincremental=${ob}/sandbox/stable/execroot/ws/../../rustc-incremental/myrepo`], { cwd: sandbox, env: { TMPDIR: w.tmp, ...DEBUG } });
        codes.push(r.exitCode);
        said.push(r.stderr.toString());
      }
    } finally {
      process.kill(pid, 'SIGKILL');
      await new Promise((ok) => (swapper.exitCode !== null || swapper.signalCode !== null ? ok(undefined) : swapper.once('exit', ok)));
    }
    // Left as the swapper left it: put the real directory back where it was, for the fingerprint's sake.
    if (lstatSync(parent).isSymbolicLink()) renameSync(join(ob, 'swap-link'), join(ob, 'tmp-real')), renameSync(parent, join(ob, 'swap-link')), renameSync(join(ob, 'tmp-real'), parent);
    expect(fingerprint(w.victim)).toEqual(before);
    // Every run either compiled (with the store or cold) or refused to run under a swapped bind; none wrote elsewhere.
    // Never a failed build: a swapped bind is covered by a private tmpfs, and that compile runs cold.
    for (const [i, code] of codes.entries()) expect(code, said[i]).toBe(0);
    expect(codes.filter((c) => c === 0).length).toBeGreaterThan(0);
  }, 120_000);
});
