import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { main } from '../../src/wrapper/main.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BUNDLE = join(ROOT, 'dist', 'seedwrap.cjs');
export const FAKE_RUSTC = join(ROOT, 'fixtures', 'fake-rustc.mjs');
export const DUMP = join(ROOT, 'fixtures', 'dump.mjs');
export const NODE = process.execPath;
/**
 * SEEDWRAP_TEST_BIN=/path: the suites that start seedwrap as a process start
 * this executable instead of the bundle (the single executable from
 * `npm run build:sea`; CI runs the bundle, fidelity, CLI and rustc suites so).
 */
export const TEST_BIN = process.env.SEEDWRAP_TEST_BIN || undefined;
/** seedwrap as Bazel starts it: program and leading arguments. */
export const SEEDWRAP: readonly [string, ...string[]] = TEST_BIN ? [TEST_BIN] : [NODE, '--', BUNDLE];

export interface Result {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs the built single-file bundle (or SEEDWRAP_TEST_BIN) as a real process, as Bazel would. */
export async function runBundle(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Result> {
  const [program, ...lead] = SEEDWRAP;
  const r = await execa(program, [...lead, ...args], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    extendEnv: false,
    reject: false,
    encoding: 'buffer',
    stripFinalNewline: false,
  });
  return { exitCode: r.exitCode ?? -1, stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr) };
}

/** Runs the core in-process with collecting streams (the child is still real). */
export async function runMain(args: string[], opts: { cwd: string; env?: Record<string, string>; signal?: AbortSignal }): Promise<Result> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) => new Writable({ write(chunk: Buffer, _enc, cb) { into.push(Buffer.from(chunk)); cb(); } });
  const exitCode = await main(args, {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    stdout: sink(out),
    stderr: sink(err),
    stdin: 'ignore',
    signal: opts.signal,
  });
  return { exitCode, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

/** Writes a fake-rustc script; returns its path. */
export function script(dir: string, steps: unknown[], name = 'script.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(steps));
  return path;
}
