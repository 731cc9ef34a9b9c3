import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every entry under `root`, never followed: type, mode bits, and the bytes'
 * SHA-256 (files) or the target (symlinks). Equal snapshots: the tree is
 * byte-for-byte and mode-for-mode unchanged (link counts excepted: a hard link
 * planted in the store and removed there lowers them, the file stays).
 */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[r] = `dir ${mode} mtime=${st.mtimeMs}`;
        walk(p, r);
      } else if (st.isFile()) out[r] = `file ${mode} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      else if (st.isSymbolicLink()) out[r] = `symlink -> ${readlinkSync(p)}`;
      else out[r] = `special ${mode} ${st.mode >> 12}`;
    }
  };
  walk(root, '');
  return out;
}
