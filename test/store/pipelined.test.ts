import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { canNamespace, compile, crateDirsIn, haveRustc, rulesRustArgs, sandboxDir, writeCrate } from './helpers.ts';
import { join } from 'node:path';

const LOADED = ['-Zassert-incr-state=loaded'];

/**
 * Pipelining: a crate's metadata action (`--rustc-quit-on-rmeta true`, killed
 * once the rmeta is written) and its full action have the same rustc flags and
 * run at the same time, in two sandboxes, into one store partition. Measured
 * here: neither invalidates the other; in the next build both load the state
 * the previous full action left (the metadata action never finishes a session
 * of its own: it is killed before rustc finalises one).
 */
describe.runIf(haveRustc && canNamespace)('pipelined metadata and full actions share one store', () => {
  it('concurrently, build after build, both reuse the state', async () => {
    const ob = tempDir();
    let n = 0;
    for (const [build, tail] of ['', '// edit 1\n', '// edit 2\n', '// edit 3\n'].entries()) {
      const meta = sandboxDir(ob, ++n);
      const full = sandboxDir(ob, ++n);
      writeCrate(meta, tail);
      writeCrate(full, tail);
      const extra = build === 0 ? [] : LOADED;
      const [m, f] = await Promise.all([
        compile(meta, rulesRustArgs('app/lib.rs', 'app', { wrapper: ['--rustc-quit-on-rmeta', 'true'], rustc: extra })),
        compile(full, rulesRustArgs('app/lib.rs', 'app', { rustc: extra })),
      ]);
      expect(m.stderr.toString(), `metadata action, build ${build}`).toBe('');
      expect(m.exitCode).toBe(0);
      expect(f.stderr.toString(), `full action, build ${build}`).toBe('');
      expect(f.exitCode).toBe(0);
    }
    // One crate directory: both actions use the same partition.
    expect(crateDirsIn(join(ob, 'rustc-incremental'))).toHaveLength(1);
  });
});
