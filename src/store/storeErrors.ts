/**
 * rustc's own failures to use its incremental directory: a line with an OS
 * error that names the store's directory ("could not create incremental
 * compilation crate directory `…`: No space left on device (os error 28)") or
 * says "incremental compilation" (rustc 1.95, out of inodes: "incremental
 * compilation: could not create session directory lock file: No space left
 * on device (os error 28)", no path; the store is the only incremental
 * directory of the compile). An ordinary compile error whose
 * diagnostic merely mentions the path (an `include_str!` of it, a lint) is
 * not one: its state stays.
 */
export function storeErrorWatch(paths: string[]) {
  let failed = false;
  let pending = '';
  const check = (text: string) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop()!.slice(-4096);
    for (const l of lines) if (/\(os error \d+\)/.test(l) && (l.includes('incremental compilation') || paths.some((p) => l.includes(p)))) failed = true;
  };
  return {
    watch: <T extends (bytes: Buffer) => void>(sink: T): T => ((bytes: Buffer) => {
      check(bytes.toString('utf8'));
      sink(bytes);
    }) as T,
    failed: () => {
      check('\n');
      return failed;
    },
    reset: () => {
      failed = false;
      pending = '';
    },
  };
}

