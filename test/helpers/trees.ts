import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A DAG of directory symlinks under `root`: levels `l0..lk`, each holding a
 * file `f` and two symlinks `a`, `b` to the next level. Seed `root` itself:
 * the links lead to siblings, which only a seed holding them may follow
 * (scope.ts). Walked path by path, `l<i>` is reached 2^(i+1)-1 times and the
 * tree holds 2^(k+2)-k-3 files; the walk refuses it past walk.ts's MAX_VISITS.
 * Returns `root`.
 */
export function symlinkDag(root: string, k: number): string {
  for (let i = 0; i <= k; i++) {
    mkdirSync(join(root, `l${i}`), { recursive: true });
    writeFileSync(join(root, `l${i}`, 'f'), String(i));
  }
  for (let i = 0; i < k; i++) {
    symlinkSync(`../l${i + 1}`, join(root, `l${i}`, 'a'));
    symlinkSync(`../l${i + 1}`, join(root, `l${i}`, 'b'));
  }
  return root;
}
