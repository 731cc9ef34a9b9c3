// A minimal Bazel HTTP remote cache for tests: GET/HEAD/PUT on /ac/<hash> and
// /cas/<hash>, in memory, on 127.0.0.1. It counts what each build asks for and
// uploads, so a test can say what hit and how many bytes a build sent.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CacheStats {
  acGets: number;
  acHits: number;
  casGets: number;
  casHits: number;
  puts: number;
  bytesUploaded: number;
}

const emptyStats = (): CacheStats => ({ acGets: 0, acHits: 0, casGets: 0, casHits: 0, puts: 0, bytesUploaded: 0 });

export interface HttpCache {
  url: string;
  /** Returns the counters since the last call and starts new ones. */
  takeStats(): CacheStats;
  entries(): number;
  close(): Promise<void>;
}

const KEY = /^\/(ac|cas)\/[0-9a-f]{64}$/;

export async function startHttpCache(): Promise<HttpCache> {
  const store = new Map<string, Buffer>();
  let stats = emptyStats();

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const path = req.url ?? '';
    if (!KEY.test(path)) {
      res.writeHead(400).end();
      return;
    }
    const isAc = path.startsWith('/ac/');
    if (req.method === 'PUT') {
      store.set(path, body);
      stats.puts += 1;
      stats.bytesUploaded += body.length;
      res.writeHead(200).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const value = store.get(path);
    if (isAc) stats.acGets += 1;
    else stats.casGets += 1;
    if (value === undefined) {
      res.writeHead(404).end();
      return;
    }
    if (isAc) stats.acHits += 1;
    else stats.casHits += 1;
    res.writeHead(200, { 'content-length': value.length });
    res.end(req.method === 'GET' ? value : undefined);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    takeStats() {
      const taken = stats;
      stats = emptyStats();
      return taken;
    },
    entries: () => store.size,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
