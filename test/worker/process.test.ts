import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWorkRequestFrame } from '../../src/worker/proto.ts';
import { barrier, jsonRequest, alive, sh } from './client.ts';
import { ensureBundle, spawnWorker } from './spawn.ts';

/** The built bundle as Bazel runs it: a real process over real pipes. */
const root = realpathSync(mkdtempSync(join(tmpdir(), 'seedwrap-worker-proc-')));
beforeAll(ensureBundle);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(['proto', 'json'] as const)('node dist/seedwrap.cjs --persistent_worker (%s)', (protocol) => {
  it('serves 16 multiplexed requests concurrently and exits 0 at EOF', async () => {
    const w = spawnWorker(protocol, root);
    const ids = Array.from({ length: 16 }, (_, i) => i + 1);
    const gate = join(root, `gate-${protocol}`);
    // All requests in one write: the worker must split the concatenated frames itself.
    const frames = ids.map((id) => {
      const req = { requestId: id, arguments: sh(`${barrier(gate, id, 16)}; echo "r${id} é"; exit $((${id} % 3))`) };
      return protocol === 'proto' ? encodeWorkRequestFrame(req) : Buffer.from(jsonRequest(req));
    });
    w.child.stdin!.write(Buffer.concat(frames));
    const res = await Promise.all(ids.map((id) => w.client.response(id)));
    // Exit 99 instead of id % 3 if the 16 children did not all run at once.
    for (const [i, r] of res.entries()) expect(r).toMatchObject({ requestId: i + 1, exitCode: (i + 1) % 3, output: `r${i + 1} é\n` });
    w.client.end();
    expect(await w.exit).toBe(0);
    expect(w.stderr()).toBe('');
  }, 120_000);

  it('cancels a long-running child', async () => {
    const w = spawnWorker(protocol, root);
    const pidFile = join(root, `cancel-${protocol}.pid`);
    w.client.send({ requestId: 41, arguments: sh(`echo $$ > ${pidFile}; exec sleep 60`) });
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 10));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    w.client.send({ requestId: 41, cancel: true });
    expect(await w.client.response(41)).toMatchObject({ requestId: 41, wasCancelled: true });
    expect(alive(pid)).toBe(false);
    expect(await w.client.request({ requestId: 42, arguments: sh('echo after') })).toMatchObject({ output: 'after\n' });
    w.client.end();
    expect(await w.exit).toBe(0);
  });

  it('exits 1 with a clear message on a stream that is not worker requests', async () => {
    const w = spawnWorker(protocol, root);
    w.child.stdin!.end(protocol === 'json' ? '{"requestId":1}not json' : Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(await w.exit).toBe(1);
    expect(w.stderr()).toMatch(/seedwrap worker: malformed .* request on stdin/);
  });
});
