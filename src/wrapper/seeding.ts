import { SeedwrapError, describe } from '../errors.ts';
import type { Io } from '../io.ts';
import type { Options } from './options.ts';

/**
 * The PR #3925 seeding steps, before the child runs: `--copy-seed` (the
 * declared seed into rustc's fresh incremental tree), then `--seed-prev-dir`
 * (a previous build's tree into the seed tree artifact). A seed is only ever
 * an optimisation: any failure is one "starting cold" warning, never a failed
 * build.
 */
export async function runSeeding(opts: Options, resolvePath: (p: string) => string, io: Io, debug?: (line: string) => void): Promise<void> {
  if (!opts.copySeed && !opts.seedPrevDir) return;
  // Loaded only by actions that seed: the engine stays off the plain wrapper path.
  const { seed } = await import('../seed/index.ts');
  const steps: [string, [string, string] | undefined, boolean][] = [
    // rustc writes into this tree: its *.o work products need inodes of their own.
    ['--copy-seed', opts.copySeed, true],
    // A seed tree artifact is only read (and made read-only by Bazel): links suffice.
    ['--seed-prev-dir', opts.seedPrevDir, false],
  ];
  for (const [flag, pair, writableWorkProducts] of steps) {
    if (!pair) continue;
    const [src, dest] = pair;
    try {
      const report = await seed(resolvePath(src), resolvePath(dest), { minBytes: opts.seedMinBytes, writableWorkProducts, debug, signal: io.signal, cwd: io.cwd });
      debug?.(`${flag} ${src} ${dest}: ${report.outcome}, ${report.linked} linked, ${report.copied} copied, ${report.bytes} bytes, ${report.ms.toFixed(1)} ms (${report.strategy})`);
    } catch (err) {
      const reason = err instanceof SeedwrapError ? err.message : describe(err);
      io.stderr.write(`seedwrap: starting cold: ${flag} ${src} ${dest}: ${reason}\n`);
    }
  }
}
