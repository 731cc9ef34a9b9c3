import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { isSystemError } from '../errors.ts';

/**
 * Cross-process exclusive locks as files created with O_EXCL: they keep two
 * processes (one-shot actions, or several workers of one mnemonic) from
 * evicting from one store at once, so an in-memory flag is not enough. A lock records its
 * owner's pid and start time (/proc/<pid>/stat field 22): a lock left by a
 * killed worker is stale once that process is gone, even if its pid was
 * reused by another process since.
 */

function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? '';
  } catch {
    return '';
  }
}

const self = `${process.pid} ${startTime(process.pid)}`;

function ownerAlive(content: string): boolean {
  const [pidText, start = ''] = content.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (isSystemError(err, 'ESRCH')) return false;
  }
  return start === '' || startTime(pid) === '' || startTime(pid) === start;
}

/** Takes the lock at `path`; false if a live process holds it. A stale lock is taken over. */
export function tryLock(path: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, self);
      closeSync(fd);
      return true;
    } catch (err) {
      if (!isSystemError(err, 'EEXIST')) throw err;
    }
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch (err) {
      if (isSystemError(err, 'ENOENT')) continue; // released meanwhile: try again
      throw err;
    }
    // An empty lock is one being written right now (open, then write).
    if (content === '' || ownerAlive(content)) return false;
    try {
      unlinkSync(path);
    } catch (err) {
      if (!isSystemError(err, 'ENOENT')) throw err;
    }
  }
  return false;
}

export function unlock(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isSystemError(err, 'ENOENT')) throw err;
  }
}
