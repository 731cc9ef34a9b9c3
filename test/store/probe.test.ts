import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
});
