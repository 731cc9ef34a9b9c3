/** Process-tree helpers for the signal tests: /proc, polling, a long real rustc. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** State letter and parent pid from /proc/PID/stat, or undefined once the process is gone. */
export function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Gone, or a zombie about to be reaped: nothing left running. */
export function isGone(pid: number): boolean {
  const st = procStat(pid);
  return st === undefined || st.state === 'Z' || st.state === 'X';
}

export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (procStat(Number(name))?.ppid === ppid) out.push(Number(name));
  }
  return out;
}

export function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export async function until<T>(what: string, fn: () => T | undefined | false, ms = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A pid written to a file by the child itself (`echo $$ > F; exec ...`). */
export async function pidFrom(file: string, ms = 30_000): Promise<number> {
  return until(file, () => existsSync(file) && Number(readFileSync(file, "utf8").trim()) > 0 && Number(readFileSync(file, "utf8").trim()), ms);
}

/**
 * A crate whose constant takes rustc minutes to evaluate: a real rustc that is
 * busy (not sleeping) when the signal arrives.
 */
export function writeLongCrate(dir: string): string {
  const path = join(dir, 'long.rs');
  writeFileSync(
    path,
    '#![allow(long_running_const_eval)]\n' +
      'pub const X: u64 = { let mut i = 0u64; let mut a = 1u64; while i < 4_000_000_000 { a = a.wrapping_mul(6364136223846793005).wrapping_add(i); i += 1; } a };\n',
  );
  return path;
}

export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
