/**
 * Issue 10 item 3: a destination that is a device is written into, never
 * unlinked or chmodded. The device is a node made in the test's own temp dir
 * (`mknod DIR/null c 1 3`), never the system's /dev/null.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { runMain } from '../helpers/wrapper.ts';
import { BUNDLE, isRoot, NODE } from './helpers.ts';

function nullDevice(dir: string, name: string): string {
  const path = join(dir, name);
  execFileSync('mknod', [path, 'c', '1', '3']);
  chmodSync(path, 0o620);
  return path;
}

function expectStillDevice(path: string): void {
  const st = lstatSync(path);
  expect(st.isCharacterDevice(), `${path} is still a character device`).toBe(true);
  expect(st.rdev).toBe(0x103);
  expect(st.mode & 0o7777).toBe(0o620);
}

describe.skipIf(!isRoot)('destinations that are devices (mknod in the temp dir)', () => {
  it('--copy-output SRC DEV writes into the device and leaves it in place', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'src'), 'bytes\n');
    chmodSync(join(dir, 'src'), 0o755);
    nullDevice(dir, 'null');
    const r = await runMain(['--copy-output', 'src', 'null', '--', 'true'], { cwd: dir });
    expect(r.stderr.toString()).toBe('');
    expect(r.exitCode).toBe(0);
    expectStillDevice(join(dir, 'null'));
  });

  it('--touch-file, --stdout-file, --stderr-file, --output-file, --write-unused-inputs leave a device in place', async () => {
    const dir = tempDir();
    for (const n of ['t', 'o', 'e', 'r', 'u']) nullDevice(dir, n);
    const r = await runMain(
      ['--touch-file', 't', '--stdout-file', 'o', '--stderr-file', 'e', '--output-file', 'r', '--write-unused-inputs', 'u', 'in', '--', 'sh', '-c', 'echo out; echo err >&2'],
      { cwd: dir },
    );
    expect(r.exitCode).toBe(0);
    for (const n of ['t', 'o', 'e', 'r', 'u']) expectStillDevice(join(dir, n));
  });
});

describe('--copy-output onto an existing regular file (upstream: std::fs::copy)', () => {
  it('overwrites it in place (same inode), truncated, with SRC\'s mode', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'src'), 'new\n');
    chmodSync(join(dir, 'src'), 0o640);
    writeFileSync(join(dir, 'dest'), 'old and longer\n');
    chmodSync(join(dir, 'dest'), 0o600);
    const ino = statSync(join(dir, 'dest')).ino;
    const r = await runMain(['--copy-output', 'src', 'dest', '--', 'true'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'dest'), 'utf8')).toBe('new\n');
    expect(statSync(join(dir, 'dest')).ino).toBe(ino);
    expect(statSync(join(dir, 'dest')).mode & 0o7777).toBe(0o640);
  });

  it('a SRC that is not a regular file (a FIFO) is one clear error, without blocking', async () => {
    const dir = tempDir();
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    // The bundle in a process of its own: a blocking open must fail the test, not hang the runner.
    const r = await execa(NODE, [BUNDLE, '--copy-output', 'fifo', 'dest', '--', 'true'], { cwd: dir, reject: false, timeout: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(r.stderr + '\n').toMatch(/^seedwrap: --copy-output fifo dest: .*not a regular file\n$/);
  });
});
