import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerClient } from './client.ts';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bundle = join(repo, 'dist', 'seedwrap.cjs');

/** `npm test` builds first; a lone `vitest run test/worker` builds here. */
export function ensureBundle(): void {
  if (existsSync(bundle)) return;
  const r = spawnSync(process.execPath, [join(repo, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

export interface SpawnedWorker {
  child: ChildProcess;
  client: WorkerClient;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** `node dist/seedwrap.cjs --persistent_worker ARGS` in `cwd`, as Bazel starts it. */
export function spawnWorker(protocol: 'proto' | 'json', cwd: string, args: string[] = [], env = process.env): SpawnedWorker {
  const child = spawn(process.execPath, [bundle, '--persistent_worker', ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, client: new WorkerClient(child.stdin!, child.stdout!, protocol), stderr: () => err, exit };
}

/** Resident set size of a process, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
