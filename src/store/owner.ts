import { createExclusive, entryPath, listEntries, type DirHandle } from '../fsSafe.ts';
import { PARTITION, TRASH } from './crateDir.ts';

/**
 * Which stores seedwrap manages. `-Cincremental=DIR` may name any directory
 * (an existing cache, the execroot, a symlink to somewhere else): seedwrap
 * only ever removes things in a store it made, marked by this file at its
 * root. A directory it did not make is used as rustc's incremental directory
 * but never evicted from or cleaned.
 */
export const MARKER = '.seedwrap-store';
export const STAMP = '.seedwrap-evicted';
export const LOCK = '.seedwrap-evict.lock';

const MARKER_TEXT = 'This directory is a seedwrap store: rustc incremental state, evicted by seedwrap (docs/store.md).\n';

export type Ownership = { managed: true } | { managed: false; why: string };

/**
 * Whether seedwrap manages the pinned store root. Unmarked, it is claimed
 * (the marker created with O_EXCL, so two actions cannot both half-make it)
 * only when it holds nothing but seedwrap's own names: empty (as the docs'
 * `mkdir -p` leaves it, or just created), or a store of a seedwrap from before
 * the marker. Anything else is foreign content, and stays unmanaged.
 */
export function ownership(root: DirHandle): Ownership {
  const entries = listEntries(root);
  const marker = entries.find((e) => e.name === MARKER);
  if (marker) return marker.kind === 'file' ? { managed: true } : { managed: false, why: `${MARKER} is a ${marker.kind}, not seedwrap's marker` };
  const foreign = entries.find((e) => !isOwnName(e.name, e.kind));
  if (foreign) return { managed: false, why: `not made by seedwrap (it holds ${foreign.name}, a ${foreign.kind}); used, never evicted` };
  createExclusive(entryPath(root, MARKER), MARKER_TEXT);
  return { managed: true };
}

function isOwnName(name: string, kind: string): boolean {
  if (name === STAMP || name === LOCK) return kind === 'file';
  return kind === 'dir' && (PARTITION.test(name) || TRASH.test(name));
}
