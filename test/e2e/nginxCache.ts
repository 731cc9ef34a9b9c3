// A real Bazel HTTP remote cache for the end-to-end tests: Debian's nginx
// with the core WebDAV module (PUT) serving a directory, one server per test
// file on 127.0.0.1 and a free port found at run time. Its config, root, pid
// and logs live in the test's temp directory; close() stops it. What each
// build asked for and uploaded is read back from nginx's own access log, and
// what the cache holds from its root directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';

export interface CacheStats {
  acGets: number;
  acHits: number;
  casGets: number;
  casHits: number;
  puts: number;
  bytesUploaded: number;
}

export interface NginxCache {
  url: string;
  /** The directory nginx serves: `ac/<sha256>` and `cas/<sha256>` files. */
  root: string;
  /** Counters from the access log since the last call. */
  takeStats(): CacheStats;
  /** Every CAS blob in the cache. */
  casBlobs(): { path: string; bytes: number }[];
  close(): Promise<void>;
}

// One line per request: method, path, status, the request body's length
// (Content-Length; "-" when none).
const LOG_FORMAT = '$request_method $uri $status $content_length';

function config(dir: string, port: number): string {
  const p = (name: string) => join(dir, name);
  return `# Written by test/e2e/nginxCache.ts
${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
master_process on;
worker_processes 1;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events { worker_connections 256; }
http {
  log_format bazelcache '${LOG_FORMAT}';
  access_log ${p('access.log')} bazelcache;
  client_body_temp_path ${p('tmp/body')};
  proxy_temp_path ${p('tmp/proxy')};
  fastcgi_temp_path ${p('tmp/fastcgi')};
  uwsgi_temp_path ${p('tmp/uwsgi')};
  scgi_temp_path ${p('tmp/scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${p('root')};
    client_max_body_size 0;
    location / {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts nginx on the port, or returns why it did not come up. */
async function launch(dir: string, port: number): Promise<ChildProcess | string> {
  writeFileSync(join(dir, 'nginx.conf'), config(dir, port));
  const child = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 200 && !exited; i++) {
    if (await accepts(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!exited) child.kill('SIGKILL');
  const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
  return `nginx did not start on 127.0.0.1:${port}: ${stderr}${log}`;
}

export async function startNginxCache(): Promise<NginxCache> {
  const dir = mkdtempSync(join(tmpdir(), 'seedwrap-nginx-'));
  for (const sub of ['root', 'tmp']) mkdirSync(join(dir, sub));
  // Another process may take the probed port before nginx binds it: retry.
  let child: ChildProcess | undefined;
  let port = 0;
  let why = '';
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const started = await launch(dir, port);
    if (typeof started === 'string') why = started;
    else child = started;
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(why);
  }
  const running = child;
  const accessLog = join(dir, 'access.log');
  let logOffset = 0;

  return {
    url: `http://127.0.0.1:${port}`,
    root: join(dir, 'root'),
    takeStats() {
      const text = existsSync(accessLog) ? readFileSync(accessLog).subarray(logOffset) : Buffer.alloc(0);
      logOffset += text.length;
      return parseAccessLog(text.toString('utf8'));
    },
    casBlobs() {
      const cas = join(dir, 'root', 'cas');
      if (!existsSync(cas)) return [];
      return readdirSync(cas).map((name) => ({ path: join(cas, name), bytes: statSync(join(cas, name)).size }));
    },
    async close() {
      if (running.exitCode === null && running.signalCode === null) {
        const gone = new Promise((r) => running.once('exit', r));
        running.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function parseAccessLog(text: string): CacheStats {
  const stats: CacheStats = { acGets: 0, acHits: 0, casGets: 0, casHits: 0, puts: 0, bytesUploaded: 0 };
  for (const line of text.split('\n')) {
    const [method, uri, status, length] = line.split(' ');
    if (!method || !uri) continue;
    const ok = status === '200' || status === '201' || status === '204';
    if (method === 'PUT') {
      stats.puts += 1;
      if (length && /^\d+$/.test(length)) stats.bytesUploaded += Number(length);
    } else if (method === 'GET' || method === 'HEAD') {
      const ac = uri.startsWith('/ac/');
      if (ac) stats.acGets += 1;
      else stats.casGets += 1;
      if (ok && ac) stats.acHits += 1;
      else if (ok) stats.casHits += 1;
    }
  }
  return stats;
}

/**
 * rustc's incremental state, recognised by content: its dep graph, query
 * cache and work-product index start with the magic "RSIC", and its work
 * products are relocatable ELF objects (ET_REL). Nothing else this example
 * builds has either form: rlibs are ar archives, rmetas start with "rust",
 * the binary is an executable, diagnostics are text. (rustc's copy of the
 * crate's rmeta in a session is the rmeta output's bytes: one blob for both.)
 */
export function isIncrementalState(path: string): boolean {
  const head = Buffer.alloc(18);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 4 && head.subarray(0, 4).toString('latin1') === 'RSIC') return true;
  const elf = n >= 18 && head[0] === 0x7f && head.subarray(1, 4).toString('latin1') === 'ELF';
  return elf && head.readUInt16LE(16) === 1;
}
