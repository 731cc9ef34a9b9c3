import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { tempDir } from '../helpers/tmp.ts';
import { BUNDLE, FAKE_RUSTC, NODE, ROOT, SEEDWRAP, TEST_BIN, runBundle, script } from '../helpers/wrapper.ts';

const SYSTEM_NODE = existsSync('/usr/bin/node') ? '/usr/bin/node' : NODE;
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('the built single file', () => {
  it('starts with the sh launcher (node -- FILE), is executable, and needs no node_modules', async () => {
    const dir = tempDir();
    const copy = join(dir, 'seedwrap');
    copyFileSync(BUNDLE, copy);
    expect(readFileSync(copy, 'utf8').startsWith('#!/bin/sh\n":" //; exec node -- "$0" "$@"\n')).toBe(true);
    const r = await execa(BUNDLE, ['--', '/bin/echo', 'ok'], { cwd: dir, reject: false });
    expect(r.stdout).toBe('ok');
    const moved = await execa(NODE, [copy, '--', '/bin/echo', 'moved'], { cwd: dir, reject: false });
    expect(moved.stdout).toBe('moved');
  });
  it('two clean builds are byte-identical, also across Node versions', async () => {
    const dir = tempDir();
    // The running Node (22 or 24 in CI's extra runs) and the machine's Node 20.
    await execa(NODE, [join(ROOT, 'scripts/build.mjs'), join(dir, 'a.cjs')]);
    await execa(SYSTEM_NODE, [join(ROOT, 'scripts/build.mjs'), join(dir, 'b.cjs')]);
    expect(sha(join(dir, 'a.cjs'))).toBe(sha(join(dir, 'b.cjs')));
  });
  it('the process under test is SEEDWRAP_TEST_BIN when it is set, else Node running the bundle', async () => {
    const dir = tempDir();
    // The child's parent is seedwrap's own process; its /proc exe is what was started.
    const r = await runBundle(['--', '/bin/sh', '-c', 'readlink /proc/$PPID/exe'], { cwd: dir });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(r.stdout.toString().trim()).toBe(realpathSync(TEST_BIN ?? NODE));
  });
  it('--help prints every flag to stdout and exits 0 without a child', async () => {
    const dir = tempDir();
    const r = await runBundle(['--help', '--', NODE, FAKE_RUSTC, script(dir, [{ touch: join(dir, 'ran') }])], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toContain('--copy-seed');
    expect(r.stderr.toString()).toBe('');
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });
  it('RULES_RUST_PROCESS_WRAPPER_DEBUG turns on debug logging', async () => {
    const dir = tempDir();
    const quiet = await runBundle(['--', '/bin/true'], { cwd: dir });
    expect(quiet.stderr.length).toBe(0);
    const loud = await runBundle(['--', '/bin/true'], { cwd: dir, env: { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' } });
    expect(loud.stderr.toString()).toMatch(/seedwrap: debug: child argv: \["\/bin\/true"\]/);
  });
});

describe('byte-exact streams', () => {
  it('stderr passthrough and --output-file keep invalid UTF-8 and \\r', async () => {
    const dir = tempDir();
    const bytes = Buffer.from('ok\r\n\xff\xfe bad utf8\n\rlone\rcr\nno newline at end \x80', 'latin1');
    const r = await runBundle(['--output-file', 'raw', '--', NODE, FAKE_RUSTC, script(dir, [{ stderrHex: bytes.toString('hex') }])], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stderr.equals(bytes)).toBe(true);
    expect(readFileSync(join(dir, 'raw')).equals(bytes)).toBe(true);
  });
  it('20,000 lines on each stream at once never deadlock, nothing lost', async () => {
    const dir = tempDir();
    const steps = [{ interleave: 20_000 }];
    const r = await runBundle(['--', NODE, FAKE_RUSTC, script(dir, steps)], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const out = r.stdout.toString().split('\n');
    const err = r.stderr.toString().split('\n');
    expect(out).toHaveLength(20_001);
    expect(err).toHaveLength(20_001);
    expect(err[19_999]).toBe('err 19999');
    const json = await runBundle(['--rustc-output-format', 'json', '--stdout-file', 'o', '--', NODE, FAKE_RUSTC, script(dir, [
      { lines: { stream: 'stderr', count: 20_000, text: '{"rendered":"r"}' } },
    ])], { cwd: dir });
    // Each line is "{...} N": not JSON, so forwarded raw and the wrapper fails
    // with one line of its own after them.
    expect(json.exitCode).toBe(1);
    const lines = json.stderr.toString().split('\n');
    expect(lines).toHaveLength(20_002);
    expect(lines[19_999]).toBe('{"rendered":"r"} 19999');
    expect(lines[20_000]).toMatch(/^seedwrap: failed to process stderr: error parsing rustc output as json \(line 1 /);
  });
});

describe('signals', () => {
  for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${sig} to seedwrap reaches the child; seedwrap exits ${code} after it`, async () => {
      const dir = tempDir();
      const pidFile = join(dir, 'child.pid');
      const [program, ...lead] = SEEDWRAP;
      const child = spawn(program, [...lead, '--', '/bin/sh', '-c', `echo $$ > ${pidFile}; exec sleep 60`], { cwd: dir, stdio: 'ignore' });
      const started = Date.now();
      while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') {
        if (Date.now() - started > 20_000) throw new Error('child never started');
        await new Promise((r) => setTimeout(r, 20));
      }
      const childPid = Number(readFileSync(pidFile, 'utf8'));
      const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      child.kill(sig);
      expect(await exited).toBe(code);
      expect(() => process.kill(childPid, 0)).toThrow(/ESRCH/);
    });
  }
});

describe('files for Bazel', () => {
  it('stdout-file is created even when the child writes nothing; output files are truncated', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'o'), 'stale content');
    const r = await runBundle(['--stdout-file', 'o', '--', '/bin/true'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'o'), 'utf8')).toBe('');
  });
});

describe('a worker-style action run one-shot (Bazel --strategy=local|sandboxed)', () => {
  it('inlines the @flagfile in flag position and drops worker-only flags', async () => {
    const dir = tempDir();
    // Bazel's multiline flagfile: one argument per line.
    writeFileSync(join(dir, 'req.flags'), `--subst\nk=V\n--\n${NODE}\n${join(ROOT, 'fixtures', 'dump.mjs')}\n\${k}\n`);
    const r = await runBundle(['--worker-incremental-dir', 'auto', '@req.flags'], { cwd: dir });
    expect(r.stderr.toString()).toBe('');
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout.toString()) as { argv: string[] }).argv).toEqual(['V']);
  });
  it('a missing flagfile is one clear line', async () => {
    const dir = tempDir();
    const r = await runBundle(['@missing.flags'], { cwd: dir });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.toString()).toMatch(/^seedwrap: worker flagfile @.*missing.flags: cannot read .*missing.flags: ENOENT/);
    expect(r.stderr.toString().trimEnd().split('\n')).toHaveLength(1);
  });
});

/**
 * Issue 10 item 4: Node scans a script's arguments for `--env-file` before
 * any JavaScript runs (`node FILE --env-file X`): a `NODE_OPTIONS=--require`
 * line ran code inside seedwrap, a missing file made Node exit 9. Every
 * documented way to start seedwrap must leave `--env-file` to seedwrap. The
 * node under test is the one running vitest (CI: 20, 22, 24), put first on
 * PATH for the forms that find `node` there. The single executable cannot
 * keep this promise (test/integration/sea.test.ts).
 */
describe('launch forms never let Node read seedwrap\'s --env-file', () => {
  const forms: [string, (dir: string) => { file: string; args: string[] }][] = [
    ['the file itself (shebang)', () => ({ file: BUNDLE, args: [] })],
    ['an npm bin link (node_modules/.bin/seedwrap, as npx runs it)', (dir) => {
      mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
      symlinkSync(BUNDLE, join(dir, 'node_modules', '.bin', 'seedwrap'));
      return { file: join(dir, 'node_modules', '.bin', 'seedwrap'), args: [] };
    }],
    ['node -- dist/seedwrap.cjs', () => ({ file: NODE, args: ['--', BUNDLE] })],
  ];
  for (const [name, form] of forms) {
    it(name, async () => {
      const dir = tempDir();
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      symlinkSync(NODE, join(bin, 'node'));
      writeFileSync(join(dir, 'evil.cjs'), `require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'pwned'))}, 'x');\n`);
      writeFileSync(join(dir, 'e.env'), `NODE_OPTIONS=--require ${join(dir, 'evil.cjs')}\nFOO=from-env-file\n`);
      const { file, args } = form(dir);
      const env = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` };
      const run = (more: string[]) => execa(file, [...args, ...more], { cwd: dir, env, extendEnv: false, reject: false, timeout: 30_000 });
      const r = await run(['--env-file', 'e.env', '--', 'sh', '-c', 'echo "$FOO"']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('from-env-file');
      expect(r.exitCode).toBe(0);
      expect(existsSync(join(dir, 'pwned')), 'NODE_OPTIONS from the env file ran code in seedwrap').toBe(false);
      const missing = await run(['--env-file', 'missing.env', '--', 'true']);
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toMatch(/^seedwrap: --env-file missing\.env: cannot read .*ENOENT/);
    });
  }
  it('npm exec seedwrap (npx) in a project that depends on seedwrap', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(BUNDLE, join(dir, 'node_modules', '.bin', 'seedwrap'));
    writeFileSync(join(dir, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}\n');
    writeFileSync(join(dir, 'e.env'), 'FOO=from-env-file\n');
    const npm = join(dirname(NODE), 'npm');
    const r = await execa(existsSync(npm) ? npm : 'npm', ['exec', '--offline', '--', 'seedwrap', '--env-file', 'missing.env', '--', 'true'], { cwd: dir, reject: false, timeout: 60_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^seedwrap: --env-file missing\.env: cannot read .*ENOENT/m);
  });
});
