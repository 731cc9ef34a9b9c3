import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isSystemError } from '../errors.ts';
import { entryPath, openFile, unlinkEntry, type DirHandle } from '../fsSafe.ts';

/**
 * Locks that die with their holder: flock(2) on an open descriptor. A pid
 * file cannot be judged: every linux-sandbox action runs in its own PID
 * namespace, where another action's pid means nothing, and a lock file left
 * empty by a crash blocked eviction for ever. rustc locks its sessions the
 * same way (`s-….lock`, flock), so the same probe tells whether a compile is
 * using a crate directory right now. /proc/locks cannot: it hides locks held
 * by processes outside the reader's PID namespace (measured on Linux 6.18: a
 * lock held outside `unshare --pid` is absent from the /proc/locks read inside,
 * while flock(1) inside sees the conflict).
 *
 * Node has no flock(2). util-linux `flock --nonblock 3` is given our
 * descriptor as its fd 3: flock(2) locks the open file description, which
 * flock(1) shares with us, so the lock outlives flock(1) and goes away when
 * our process closes the descriptor or dies. One spawn costs about 2–5 ms here
 * (2.5 ms median of 20); eviction locks at most once a minute per store and
 * probes only the sessions of crate directories it is about to remove.
 */
const CONFLICT = 75;

export type FlockResult = 'locked' | 'busy' | 'unavailable';

/** flock(LOCK_EX|LOCK_NB) on `fd` for this process. */
export function tryFlock(fd: number): FlockResult {
  const flock = flockCommand();
  if (!flock) return noFlockCommand();
  const r = spawnSync(flock, ['--nonblock', '--conflict-exit-code', String(CONFLICT), '3'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
  if (r.status === 0) return 'locked';
  if (r.status === CONFLICT) return 'busy';
  return noFlockCommand();
}

/**
 * flock(1) by absolute path: PATH's absolute entries, then the usual
 * directories. Never a relative PATH entry (`:` or `.` in PATH): that is the
 * action's cwd, whose top-level entries the build chooses, and this runs as
 * the action's user (often root) outside any sandbox.
 */
let found: string | null | undefined;
function flockCommand(): string | undefined {
  if (found === undefined) {
    const dirs = [...(process.env.PATH ?? '').split(':').filter((d) => isAbsolute(d)), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
    found = dirs.map((d) => join(d, 'flock')).find((p) => isExecutable(p)) ?? null;
  }
  return found ?? undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * No util-linux flock(1) on PATH (a minimal container), or it could not
 * lock: without it no lock can be judged, so the callers do nothing that
 * needs one (no eviction; a crate directory counts as in use).
 */
function noFlockCommand(): FlockResult {
  return 'unavailable';
}

export interface HeldLock {
  release(): void;
}

/**
 * Takes the lock file `name` in the pinned directory, created if missing. A
 * planted symlink, FIFO, socket or device there is removed as an entry and
 * the lock made afresh once; returns why not when it cannot be taken.
 */
export function takeLock(dir: DirHandle, name: string, onReplaced: (what: string) => void): HeldLock | string {
  for (let attempt = 0; attempt < 2; attempt++) {
    const opened = openFile(entryPath(dir, name), constants.O_RDONLY | constants.O_CREAT, 0o644);
    if ('refused' in opened) {
      onReplaced(`${dir.path}/${name} was a ${opened.refused}; removed`);
      unlinkEntry(dir, name);
      continue;
    }
    if (opened.st.nlink !== 1) {
      // A hard link to a file elsewhere (another program's lock): never locked.
      closeSync(opened.fd);
      onReplaced(`${dir.path}/${name} had ${opened.st.nlink} links; removed`);
      unlinkEntry(dir, name);
      continue;
    }
    const got = tryFlock(opened.fd);
    if (got === 'locked') return { release: () => closeSync(opened.fd) };
    closeSync(opened.fd);
    return got === 'busy' ? 'held by another process' : 'flock(1) (util-linux) is not available';
  }
  return `${dir.path}/${name} keeps being replaced`;
}

/**
 * Whether a live process (a running rustc) holds the lock file `name`: a
 * non-blocking flock that, if it succeeds, is dropped at once. Anything that
 * is not a regular file is no lock of rustc's: free. `unknown` without
 * flock(1): callers keep what it guards.
 */
export function lockState(dir: DirHandle, name: string): 'held' | 'free' | 'unknown' {
  let opened;
  try {
    opened = openFile(entryPath(dir, name), constants.O_RDONLY);
  } catch (err) {
    if (isSystemError(err, 'ENOENT')) return 'free'; // rustc finished and deleted it meanwhile
    throw err;
  }
  if ('refused' in opened) return 'free';
  try {
    const got = tryFlock(opened.fd);
    return got === 'locked' ? 'free' : got === 'busy' ? 'held' : 'unknown';
  } finally {
    closeSync(opened.fd);
  }
}
