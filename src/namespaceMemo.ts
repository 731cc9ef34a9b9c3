import { closeSync, constants, readFileSync, readSync, unlinkSync } from 'node:fs';
import { createExclusive, openFile } from './fsSafe.ts';
import { sha256Hex } from './sha256.ts';

/**
 * Remembers across processes that a mount namespace can be made, so a
 * one-shot action does not spawn `unshare … /bin/true` before every compile
 * (2–5 ms and a fork of Node; issue 17 item 4). A success only, never a
 * failure: one transient failure must not turn reuse off for good.
 *
 * The memo is a small file in a directory the action can write and every
 * action of the build shares (the store's root), named by what decides
 * whether unshare works: the boot (a reboot can change the sysctls), the uid,
 * the process's capability sets, no_new_privs and seccomp mode (another
 * container or sandbox sharing the store gets a name of its own) and the
 * unshare binary. It is read without following a link, only when it is a
 * regular file of our own uid that nobody else may write, and holds exactly
 * one of the two flag lists the probe can choose; anything else is ignored
 * and the probe runs. A memo that turns out wrong anyway costs one retry:
 * the wrapper checks again after a failed run (src/wrapper/main.ts).
 */
const PREFIX = '.seedwrap-namespace-';
export const MEMO = /^\.seedwrap-namespace-[0-9a-f]{16}$/;
const KNOWN = ['--mount', '--user --map-root-user --mount'];

export function memoPath(dir: string, unshare: string): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8');
    return `${dir}/${memoName(boot, process.getuid?.() ?? -1, readFileSync('/proc/self/status', 'utf8'), unshare)}`;
  } catch {
    return undefined; // no /proc: nothing is remembered
  }
}

/** The memo's file name from the boot id, the uid, /proc/self/status and the unshare binary. */
export function memoName(bootId: string, uid: number, status: string, unshare: string): string {
  const caps = status.split('\n').filter((l) => /^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):/.test(l)).join('\n');
  return PREFIX + sha256Hex(`${bootId.trim()}\0${uid}\0${caps}\0${unshare}`).slice(0, 16);
}

/** The flags a memo at `path` holds, or undefined when there is none to trust. */
export function recall(path: string): string[] | undefined {
  let opened;
  try {
    opened = openFile(path, constants.O_RDONLY);
  } catch {
    return undefined;
  }
  if ('refused' in opened) return undefined;
  try {
    const { st } = opened;
    if (st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0 || st.size > 64) return undefined;
    const buf = Buffer.alloc(64);
    const text = buf.subarray(0, readSync(opened.fd, buf, 0, 64, 0)).toString();
    return KNOWN.includes(text) ? text.split(' ') : undefined;
  } finally {
    closeSync(opened.fd);
  }
}

/** Writes the memo once (O_EXCL, never through a link); a failure only means the next action probes. */
export function remember(path: string, flags: readonly string[]): void {
  try {
    createExclusive(path, flags.join(' '), 0o644);
  } catch {
    // A read-only or vanished directory: nothing to remember in.
  }
}

/** Forgets a memo that turned out wrong. */
export function forget(path: string): void {
  try {
    if (recall(path)) unlinkSync(path);
  } catch {
    // Gone already, or not ours to remove.
  }
}
