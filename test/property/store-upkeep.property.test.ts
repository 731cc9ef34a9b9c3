/**
 * Property: whatever is planted in a store (directories, files, symlinks into
 * and out of the store, FIFOs, hard links to outside files), after any
 * sequence of compiles, exit-101 retries and evictions the tree outside the
 * store is byte-for-byte and mode-for-mode unchanged, and no compile failed.
 *
 * "rustc" here is a small sh script that makes rustc's session layout
 * (`<crate>-<id>/s-<time>-<rand>.lock`, a `-working` session renamed to a
 * finished one) and, when asked, ends once with exit 101: hundreds of real
 * rustc runs per property would take minutes, and what is under test is
 * seedwrap's upkeep around the layout, not rustc. Like rustc's
 * create_dir_all, it follows a symlink at the crate directory's name and fails
 * on anything else that is not a directory. The real-rustc tests of the same
 * attacks are test/store/upkeep.test.ts and retries.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, lutimesSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.ts';
import { runMain } from '../helpers/wrapper.ts';
import { snapshot } from '../store/snapshot.ts';

const FIXTURE = `#!/bin/sh
for a; do case "$a" in -Cincremental=*) D="\${a#-Cincremental=}";; --crate-name=*) N="\${a#--crate-name=}";; esac; done
C="$D/$N-0fixture"
mkdir -p "$C" 2>/dev/null || { echo "error: could not create incremental compilation crate directory \\\`$C\\\`: File exists (os error 17)" >&2; exit 1; }
S="s-$(date +%s%N)-r$$"
: > "$C/$S.lock" || exit 1
mkdir "$C/$S-working" && printf 'state %s\\n' "$N" > "$C/$S-working/dep-graph.bin" && mv "$C/$S-working" "$C/$S-svh0" || exit 1
if [ -n "$ICE_ONCE" ] && [ ! -e "$ICE_ONCE" ]; then : > "$ICE_ONCE"; echo "error: the compiler unexpectedly panicked (fixture)" >&2; exit 101; fi
exit 0
`;

const CRATES = ['alpha', 'beta'];
const hourAgo = () => Date.now() / 1000 - 3600;

/** Where a planted entry goes: the store root, the partition, a crate directory, or a planted directory. */
interface Plant {
  at: number;
  name: string;
  kind: 'dir' | 'file' | 'fifo' | 'link-out' | 'link-in' | 'hardlink';
  /** Which outside entry, or which store directory, a link points to. */
  target: number;
}

const names = fc.oneof(
  fc.constantFrom('abcdefabcdef', '0123456789ab', '.seedwrap-evicted', '.seedwrap-evict.lock', '.trash-1-deadbeef', 'alpha-0fixture', 'beta-0fixture', 'alpha-zz', 'x', 's-1-2-3', 's-1-2.lock'),
  fc.stringMatching(/^[a-z0-9_-]{1,8}$/),
);
// Mostly at the store's root and in the partition, where eviction and the clean-up list.
const at = fc.oneof(fc.constant(0), fc.constant(1), fc.constant(2), fc.nat(9));
const plant: fc.Arbitrary<Plant> = fc.oneof(
  fc.record({ at, name: names, kind: fc.constantFrom('dir' as const, 'file' as const, 'fifo' as const), target: fc.constant(0) }),
  fc.record({ at, name: names, kind: fc.constantFrom('link-out' as const, 'link-in' as const, 'hardlink' as const), target: fc.nat(9) }),
);
type Op = { op: 'compile' | 'ice' | 'evict' | 'age'; crate: number };
const op: fc.Arbitrary<Op> = fc.record({ op: fc.constantFrom('compile' as const, 'ice' as const, 'evict' as const, 'age' as const), crate: fc.nat(CRATES.length - 1) });

/** An outside tree of directories, files of several modes and a symlink. */
function outsideTree(root: string): string[] {
  const made: string[] = [];
  for (const [i, d] of ['keep', 'keep/deep', 'alpha-0fixture', '0123456789ab', '0123456789ab/alpha-1'].entries()) {
    mkdirSync(join(root, d), { recursive: true });
    const f = join(root, d, `file${i}`);
    writeFileSync(f, `outside ${d}\n`.repeat(50));
    chmodSync(f, [0o600, 0o644, 0o755, 0o4755, 0o400][i]!);
    made.push(join(root, d), f);
  }
  symlinkSync('keep/file0', join(root, 'link'));
  made.push(join(root, 'link'));
  for (const p of made) lutimesSync(p, hourAgo(), hourAgo());
  return made.filter((p) => !p.endsWith('link'));
}

async function compile(execroot: string, fixture: string, store: string, crate: string, env: Record<string, string>) {
  return runMain(['--', fixture, `--crate-name=${crate}`, '--crate-type=rlib', '--emit=link', '--out-dir=out', `-Cincremental=${store}`], { cwd: execroot, env });
}

/** Directories of the store to plant in: root, partition, crate dirs, and planted dirs (found afresh). */
function plantDirs(store: string): string[] {
  const out = [store];
  const walk = (dir: string, depth: number) => {
    if (depth > 3) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) {
      out.push(join(dir, e.name));
      walk(join(dir, e.name), depth + 1);
    }
  };
  walk(store, 0);
  return out;
}

function doPlant(p: Plant, store: string, outside: string[]): void {
  const dirs = plantDirs(store);
  const at = join(dirs[p.at % dirs.length]!, p.name);
  try {
    if (p.kind === 'dir') mkdirSync(at);
    // wx: O_EXCL, so a name already taken by a planted FIFO is never opened (the open would wait for a reader for ever).
    else if (p.kind === 'file') writeFileSync(at, 'planted', { flag: 'wx' });
    else if (p.kind === 'fifo') execFileSync('mkfifo', [at], { stdio: 'ignore' });
    else if (p.kind === 'link-out') symlinkSync(outside[p.target % outside.length]!, at);
    else if (p.kind === 'link-in') symlinkSync(dirs[p.target % dirs.length]!, at);
    else linkSync(outside.filter((o) => !o.endsWith('/keep') && /file\d$/.test(o))[p.target % 5]!, at);
    lutimesSync(at, hourAgo(), hourAgo());
  } catch {
    // The name is taken (EEXIST): nothing planted there this time.
  }
}

describe('store upkeep against planted entries (property)', () => {
  it('leaves everything outside the store unchanged and never fails a compile', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(plant, { maxLength: 12 }), fc.array(op, { minLength: 1, maxLength: 8 }), async (plants, ops) => {
        const base = tempDir('seedwrap-prop-');
        const execroot = join(base, 'execroot', 'ws');
        mkdirSync(join(execroot, 'out'), { recursive: true });
        const fixture = join(base, 'rustc-fixture');
        writeFileSync(fixture, FIXTURE);
        chmodSync(fixture, 0o755);
        const outsideRoot = join(base, 'outside');
        mkdirSync(outsideRoot);
        const outside = outsideTree(outsideRoot);
        const store = join(base, 'store');
        // A store seedwrap made and has used once.
        const first = await compile(execroot, fixture, store, 'alpha', {});
        expect(first.exitCode, first.stderr.toString()).toBe(0);
        for (const p of plants) doPlant(p, store, outside);
        const before = snapshot(outsideRoot);
        let ice = 0;
        for (const { op: what, crate } of ops) {
          if (what === 'age') {
            for (const d of plantDirs(store)) lutimesSync(d, hourAgo(), hourAgo());
            continue;
          }
          const env: Record<string, string> = { RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' };
          if (what === 'ice') env.ICE_ONCE = join(base, `ice-${ice++}`);
          if (what === 'evict') {
            rmSync(join(store, '.seedwrap-evicted'), { force: true, recursive: true });
            env.SEEDWRAP_STORE_MAX_MB = '0';
          }
          const r = await compile(execroot, fixture, store, CRATES[crate]!, env);
          expect(r.exitCode, r.stderr.toString()).toBe(0);
          expect(r.stderr.toString()).not.toMatch(/internal error/);
        }
        expect(snapshot(outsideRoot)).toEqual(before);
      }),
      { numRuns: Number(process.env.SEEDWRAP_PROPERTY_RUNS ?? 40) },
    );
  }, 300_000);
});
