/**
 * Issue 10 item 6: a write error on `--stderr-file` / `--output-file` (a real
 * ENOSPC: a 64 KiB tmpfs mounted in the test's temp dir) was an uncaught
 * exception: a stack trace, the child orphaned, and in the worker the whole
 * worker gone. Now: one line naming the flag and ENOSPC, the child ended,
 * exit 1; the worker answers exit 1 and serves the next request.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { WorkerClient } from '../worker/client.ts';
import { BUNDLE, canMount, mountTmpfs, NODE, onCleanup, scratch, umount } from './helpers.ts';
import { isGone, killQuietly, pidFrom } from './processes.ts';

function smallDisk(dir: string): string {
  const full = join(dir, 'full');
  mountTmpfs(full, 'size=64k');
  onCleanup(() => umount(full));
  return full;
}

/** Writes its pid, then stderr forever: only seedwrap can end it. */
const FLOOD = (pidFile: string) => ['/bin/sh', '-c', `echo $$ > ${pidFile}; exec yes 'a line of rustc diagnostics' >&2`];

describe.skipIf(!canMount)('a full disk under --stderr-file / --output-file', () => {
  for (const flag of ['--stderr-file', '--output-file']) {
    it(`${flag}: one line naming it and ENOSPC, the child ended, exit 1`, async () => {
      const dir = scratch('disk-full-out');
      smallDisk(dir);
      const pidFile = join(dir, 'child.pid');
      const run = execa(NODE, ['--', BUNDLE, flag, 'full/out', '--', ...FLOOD(pidFile)], { cwd: dir, reject: false, timeout: 60_000, stdout: 'ignore', ...(flag === '--output-file' ? { stderr: 'pipe' } : {}) });
      const child = await pidFrom(pidFile);
      onCleanup(() => killQuietly(child));
      const r = await run;
      expect(r.timedOut).toBe(false);
      expect(r.exitCode).toBe(1);
      // --output-file: the passed-through stream (chunks, not lines) still reaches stderr; seedwrap's line comes last.
      const err = String(r.stderr);
      const line = `seedwrap: ${flag} full/out: cannot write: ENOSPC; the child was stopped`;
      expect(err.endsWith(line), err.slice(-300)).toBe(true);
      if (flag === '--stderr-file') expect(err).toBe(line);
      expect(String(r.stderr)).not.toMatch(/internal error|    at /);
      expect(isGone(child)).toBe(true);
    }, 90_000);
  }

  it('worker: the request answers exit 1 with that line, and the worker serves the next request', async () => {
    const dir = scratch('disk-full-worker');
    smallDisk(dir);
    const worker = spawn(NODE, ['--', BUNDLE, '--persistent_worker'], { cwd: dir, stdio: ['pipe', 'pipe', 'ignore'] });
    onCleanup(() => killQuietly(worker.pid!));
    const exited = new Promise<number | null>((r) => worker.on('close', (c) => r(c)));
    const client = new WorkerClient(worker.stdin, worker.stdout, 'json');
    const pidFile = join(dir, 'child.pid');
    const res = client.request({ requestId: 1, arguments: ['--stderr-file', 'full/err', '--', ...FLOOD(pidFile)] });
    const child = await pidFrom(pidFile);
    onCleanup(() => killQuietly(child));
    expect(await res).toMatchObject({ exitCode: 1, output: 'seedwrap: --stderr-file full/err: cannot write: ENOSPC; the child was stopped\n' });
    expect(isGone(child)).toBe(true);
    expect(await client.request({ requestId: 2, arguments: ['--', '/bin/echo', 'alive'] })).toMatchObject({ exitCode: 0, output: 'alive\n' });
    client.end();
    expect(await exited).toBe(0);
  }, 90_000);
});
