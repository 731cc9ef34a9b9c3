import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoName } from '../../src/namespaceMemo.ts';
import { chooseNamespaces } from '../../src/stableCwd.ts';
import { tempDir } from '../helpers/tmp.ts';
import { BUNDLE, NODE } from '../helpers/wrapper.ts';
import { canNamespace, sandboxDir } from './helpers.ts';

const isRoot = process.getuid?.() === 0;

describe('the stable-cwd probe (issue 10 item 10)', () => {
  // Inside linux-sandbox /dev can be read-only with a /dev/null that cannot be
  // opened for writing. Reproduced in a private mount namespace of this test
  // only: a read-only bind of a file of the test's own over /dev/null there
  // (the machine's /dev/null is never touched; the namespace ends with sh).
  it.runIf(isRoot && canNamespace)('works where /dev/null cannot be opened (EROFS): the probe does not use /dev/null', () => {
    const tmp = tempDir();
    const ob = join(tmp, 'ob');
    const cwd = sandboxDir(ob, 4);
    const fakeNull = join(tmp, 'null');
    writeFileSync(fakeNull, '');
    const script = 'mount --bind -o ro "$1" /dev/null || exit 90; cd "$2" || exit 91; shift 2; exec "$@"';
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', fakeNull, cwd, NODE, BUNDLE, '--stable-cwd', 'true', '--', '/bin/pwd'], {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // The precondition: /dev/null really is unusable in there.
    const check = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind -o ro "$1" /dev/null && (echo x > /dev/null) 2>&1', 'sh', fakeNull], { encoding: 'utf8' });
    expect(check.stdout + check.stderr).toMatch(/Read-only file system/);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(join(ob, 'sandbox', 'stable', 'execroot', 'ws'));
    expect(existsSync(fakeNull)).toBe(true);
  });

  // Inside a user namespace with no mapping, neither `unshare --mount` nor a
  // nested user namespace is allowed: a real "no namespace here".
  it.runIf(isRoot)('where no namespace can be made, the compile runs in place with one line naming the real cause', () => {
    const tmp = tempDir();
    const ob = join(tmp, 'ob');
    const cwd = sandboxDir(ob, 3);
    // The unmapped user is nobody: let it into the test's own directories.
    execFileSync('chmod', ['-R', '777', tmp]);
    const r = spawnSync('unshare', ['--user', NODE, BUNDLE, '--subst', 'output_base=${output_base}', '--', '/bin/sh', '-c', 'pwd', 'sh', '-Cincremental=${output_base}/rustc-incremental', '--crate-name=c'], { cwd, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${cwd}\n`);
    expect(r.stderr).toMatch(/^seedwrap: stable cwd for -C incremental: no mount namespace can be created here: \S*unshare --mount: unshare: unshare failed: Operation not permitted; \S*unshare --user --map-root-user --mount: unshare: unshare failed: Operation not permitted; rustc runs in \S+ and cannot reuse incremental state made in another sandbox\n$/);
  });

  // A transient failure cannot be produced on demand for real: a fake unshare
  // that fails once (and says why) stands in for it.
  it('reports what unshare said, keeps a success, and does not keep a failure', () => {
    const tmp = tempDir();
    const marker = join(tmp, 'failed-once');
    const fake = join(tmp, 'unshare');
    writeFileSync(fake, `#!/bin/sh\nif [ ! -e '${marker}' ]; then : > '${marker}.$$'; echo "unshare: unshare failed: Operation not permitted" >&2; exit 1; fi\nexit 0\n`);
    chmodSync(fake, 0o755);
    const first = chooseNamespaces(fake);
    expect(first).toEqual({ reason: expect.stringContaining('unshare failed: Operation not permitted') });
    expect(Array.isArray(first)).toBe(false);
    writeFileSync(marker, '');
    // The failure was not remembered: the next action probes again and succeeds.
    expect(chooseNamespaces(fake)).toEqual(['--mount']);
    // A success is kept for the process (a worker probes once).
    execFileSync('rm', [marker]);
    expect(chooseNamespaces(fake)).toEqual(['--mount']);
  });

  // issue 17 item 4: a one-shot action remembers the probe's success in the
  // store's root, and the next action spawns no probe of its own.
  const storeAction = ['--subst', 'output_base=${output_base}', '--', '/bin/sh', '-c', 'cat /proc/self/uid_map', 'sh', '-Cincremental=${output_base}/rustc-incremental', '--crate-name=c'];
  const memosIn = (store: string) => readdirSync(store).filter((n) => n.startsWith('.seedwrap-namespace-'));
  const unmapped = (line: string) => /^\s*0\s+0\s+4294967295\s*$/.test(line);

  it.runIf(isRoot && canNamespace)('a success is remembered in the store root, and the next action uses the memo instead of probing', () => {
    const ob = join(tempDir(), 'ob');
    const store = join(ob, 'rustc-incremental');
    mkdirSync(store, { recursive: true });
    const first = spawnSync(NODE, [BUNDLE, ...storeAction], { cwd: sandboxDir(ob, 1), encoding: 'utf8' });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    // As root the probe chooses --mount: the child stays in the initial user namespace.
    expect(unmapped(first.stdout)).toBe(true);
    const [memo] = memosIn(store);
    expect(memo).toMatch(/^\.seedwrap-namespace-[0-9a-f]{16}$/);
    expect(readFileSync(join(store, memo!), 'utf8')).toBe('--mount');
    expect(statSync(join(store, memo!)).mode & 0o777).toBe(0o644);
    // A memo naming the other valid flags is what the next action runs with: a
    // probe of its own would have chosen --mount again, and the child would
    // not be in a user namespace mapping only root.
    writeFileSync(join(store, memo!), '--user --map-root-user --mount');
    const second = spawnSync(NODE, [BUNDLE, ...storeAction], { cwd: sandboxDir(ob, 2), encoding: 'utf8' });
    expect(second.stderr).toBe('');
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/^\s*0\s+0\s+1\s*$/);
  });

  it.runIf(isRoot && canNamespace)('a memo that is group-writable, a symlink or holds other text is ignored: the action probes', () => {
    const ob = join(tempDir(), 'ob');
    const store = join(ob, 'rustc-incremental');
    mkdirSync(store, { recursive: true });
    expect(spawnSync(NODE, [BUNDLE, ...storeAction], { cwd: sandboxDir(ob, 1), encoding: 'utf8' }).status).toBe(0);
    const memo = join(store, memosIn(store)[0]!);
    const other = join(ob, 'elsewhere');
    writeFileSync(other, '--user --map-root-user --mount');
    const planted: Array<() => void> = [
      () => { writeFileSync(memo, '--user --map-root-user --mount'); chmodSync(memo, 0o664); },
      () => { execFileSync('rm', [memo]); symlinkSync(other, memo); },
      () => { execFileSync('rm', [memo]); writeFileSync(memo, '--user --map-root-user --mount --net'); },
    ];
    for (const [i, plant] of planted.entries()) {
      plant();
      const r = spawnSync(NODE, [BUNDLE, ...storeAction], { cwd: sandboxDir(ob, 10 + i), encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(unmapped(r.stdout), `planted memo ${i}`).toBe(true);
    }
  });

  // A memo that is wrong (made where namespaces worked, read where they do
  // not): the failed run is checked, the memo forgotten, the action run again
  // in place with the usual one line. Inside `unshare --user` with no mapping
  // nothing can be made; the memo is planted under the name that process computes.
  it.runIf(isRoot)('a wrong memo costs one rerun: the action still succeeds in place, with one line, and the memo is gone', () => {
    const tmp = tempDir();
    const ob = join(tmp, 'ob');
    const cwd = sandboxDir(ob, 3);
    const store = join(ob, 'rustc-incremental');
    mkdirSync(store, { recursive: true });
    const inside = (cmd: string[]) => spawnSync('unshare', ['--user', ...cmd], { encoding: 'utf8' });
    const status = inside(['cat', '/proc/self/status']).stdout;
    const uid = Number(inside(['id', '-u']).stdout.trim());
    const name = memoName(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'), uid, status, '/usr/bin/unshare');
    writeFileSync(join(store, name), '--mount');
    execFileSync('chmod', ['-R', '777', tmp]);
    chmodSync(join(store, name), 0o644);
    const r = spawnSync('unshare', ['--user', NODE, BUNDLE, '--subst', 'output_base=${output_base}', '--', '/bin/sh', '-c', 'pwd', 'sh', '-Cincremental=${output_base}/rustc-incremental', '--crate-name=c'], { cwd, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${cwd}\n`);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/unshare failed: Operation not permitted$/);
    expect(lines[1]).toMatch(/^seedwrap: the remembered mount namespace check was wrong \(.*unshare failed: Operation not permitted.*\); running the action again$/);
    expect(lines[2]).toMatch(/^seedwrap: stable cwd for -C incremental: no mount namespace can be created here: /);
    expect(lines).toHaveLength(3);
    expect(existsSync(join(store, name))).toBe(false);
  });
});
