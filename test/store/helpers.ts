import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { planStableCwd } from '../../src/stableCwd.ts';
import { runMain, type Result } from '../helpers/wrapper.ts';

const rustup = join(homedir(), '.cargo', 'bin', 'rustc');
export const haveRustc = existsSync(rustup);
/** The toolchain's own rustc, not the rustup proxy. */
export const RUSTC = haveRustc ? join(execFileSync(rustup, ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), 'bin', 'rustc') : '';

/** Needs a mount namespace: as root (CI) or with unprivileged user namespaces. */
export const canNamespace = planStableCwd({ kind: 'sandbox', outputBase: '/x', workspace: 'ws', execroot: '/x/execroot/ws', bazelOut: '/x/execroot/ws/bazel-out', actionDirs: '/x/sandbox' }).kind === 'stable';

/** `<output_base>/sandbox/<strategy>/<n>/execroot/ws`, made, with the real `<output_base>/execroot/ws` Bazel always has beside it. */
export function sandboxDir(outputBase: string, n: number, strategy = 'linux-sandbox'): string {
  const dir = join(outputBase, 'sandbox', strategy, String(n), 'execroot', 'ws');
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(outputBase, 'execroot', 'ws'), { recursive: true });
  return dir;
}

/** A workspace crate of 80 functions at `<execroot>/app/lib.rs`, plus `tail` (a comment edit, say). */
export function writeCrate(execroot: string, tail = ''): void {
  mkdirSync(join(execroot, 'app'), { recursive: true });
  mkdirSync(join(execroot, 'out'), { recursive: true });
  const fns = Array.from({ length: 80 }, (_, i) => `pub fn f${i}(x: u64) -> u64 { x.wrapping_mul(${i + 3}).rotate_left(${i % 13}) }`).join('\n');
  writeFileSync(join(execroot, 'app', 'lib.rs'), `${fns}\npub fn answer() -> u64 { 42 }\n${tail}`);
}

/** Debian's copy of a registry crate, copied into `<execroot>/<dest>`. */
export function copyRegistryCrate(prefix: string, execroot: string, dest: string): string {
  const reg = '/usr/share/cargo/registry';
  const name = readdirSync(reg).filter((n) => n.startsWith(`${prefix}-`)).sort().at(-1);
  if (!name) throw new Error(`no ${prefix} in ${reg}`);
  cpSync(join(reg, name), join(execroot, dest), { recursive: true, dereference: true });
  mkdirSync(join(execroot, 'out'), { recursive: true });
  return join(dest, 'src', 'lib.rs');
}

export function appendComment(file: string, text = '// an edit\n'): void {
  appendFileSync(file, text);
}

/**
 * A compile as rules_rust main passes it: `${pwd}` and `${output_base}`
 * substitutions, both remaps, rendered diagnostics, and the user's
 * `-Cincremental=${output_base}/rustc-incremental` from extra_rustc_flag.
 */
export function rulesRustArgs(root: string, crate: string, extra: { wrapper?: string[]; rustc?: string[]; incremental?: string } = {}): string[] {
  return [
    '--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--rustc-output-format', 'rendered',
    ...(extra.wrapper ?? []),
    '--',
    RUSTC, root, `--crate-name=${crate}`, '--crate-type=rlib', '--edition=2018', '--error-format=json', '--json=artifacts',
    '--emit=dep-info,link,metadata', '--out-dir=out', '-Copt-level=0', '-Cdebuginfo=0',
    '--remap-path-prefix=${output_base}=ob', '--remap-path-prefix=${pwd}=.',
    extra.incremental ?? '-Cincremental=${output_base}/rustc-incremental',
    ...(extra.rustc ?? []),
  ];
}

export function compile(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return runMain(args, { cwd, env: { RUSTC_BOOTSTRAP: '1', HOME: homedir(), ...env } });
}

/** `<store>/<partition>/<crate>-<id>` directories. */
export function crateDirsIn(store: string): string[] {
  if (!existsSync(store)) return [];
  return readdirSync(store).filter((p) => !p.startsWith('.')).flatMap((p) => readdirSync(join(store, p)).map((c) => join(store, p, c)));
}
