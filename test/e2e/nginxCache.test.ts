// The nginx cache the Bazel tests share, checked on its own: Bazel's HTTP
// cache protocol (PUT and GET on /ac/ and /cas/) against the real nginx, the
// counters read from its access log, and the content test that tells rustc's
// incremental state apart from compile outputs, on files real rustc wrote.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NGINX, isIncrementalState, startNginxCache, type NginxCache } from './nginxCache.ts';

const RUSTC = '/root/.cargo/bin/rustc';

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile());
}

describe.runIf(existsSync(NGINX))('nginx as a Bazel HTTP cache', () => {
  let cache: NginxCache;
  beforeAll(async () => {
    cache = await startNginxCache();
  }, 60_000);
  afterAll(async () => {
    await cache?.close();
  });

  it('stores a PUT blob, serves it back and counts both from its access log', async () => {
    const blob = Buffer.from('seedwrap nginx cache test\n');
    const key = createHash('sha256').update(blob).digest('hex');
    const put = await fetch(`${cache.url}/cas/${key}`, { method: 'PUT', body: blob });
    expect([200, 201, 204]).toContain(put.status);
    const hit = await fetch(`${cache.url}/cas/${key}`);
    expect(hit.status).toBe(200);
    expect(Buffer.from(await hit.arrayBuffer())).toEqual(blob);
    const miss = await fetch(`${cache.url}/ac/${'0'.repeat(64)}`);
    expect(miss.status).toBe(404);
    expect(cache.takeStats()).toEqual({ acGets: 1, acHits: 0, casGets: 1, casHits: 1, puts: 1, bytesUploaded: blob.length });
    expect(cache.takeStats().puts).toBe(0);
    expect(cache.casBlobs()).toEqual([{ path: join(cache.root, 'cas', key), bytes: blob.length }]);
  });

  it('stops on close and removes its directory', async () => {
    const other = await startNginxCache();
    const port = Number(new URL(other.url).port);
    const dir = join(other.root, '..');
    await other.close();
    expect(existsSync(dir)).toBe(false);
    const refused = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  }, 60_000);
});

describe.runIf(existsSync(RUSTC))('recognising rustc incremental state by content', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'seedwrap-incr-detect-'));
    writeFileSync(join(dir, 'lib.rs'), 'pub fn f(x: u32) -> u32 { x + 1 }\npub fn g() -> String { f(2).to_string() }\n');
    writeFileSync(join(dir, 'main.rs'), 'fn main() { println!("{}", lib::g()); }\n');
    const run = (args: string[]) => {
      const r = spawnSync(RUSTC, args, { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
    };
    run(['--crate-type=rlib', '--crate-name=lib', '--emit=metadata,link', '-Cincremental=incr', '--out-dir=out', 'lib.rs']);
    run(['--crate-type=bin', '--crate-name=app', '--extern=lib=out/liblib.rlib', '--out-dir=out', 'main.rs']);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('flags the dep graph, query cache and work products, and no compile output', () => {
    // Everything rustc keeps there but its (empty) lock file and its copy of
    // the crate's rmeta, byte for byte the rmeta output (one CAS blob for both).
    const state = files(join(dir, 'incr')).filter((p) => statSync(p).size > 0 && !p.endsWith('/metadata.rmeta'));
    const flagged = state.filter(isIncrementalState);
    expect(flagged.sort()).toEqual(state.sort());
    expect(flagged.some((p) => p.endsWith('.o'))).toBe(true);
    expect(flagged.some((p) => p.endsWith('dep-graph.bin'))).toBe(true);
    for (const output of ['liblib.rlib', 'liblib.rmeta', 'app']) expect(isIncrementalState(join(dir, 'out', output))).toBe(false);
    expect(isIncrementalState(join(dir, 'lib.rs'))).toBe(false);
  });
});
