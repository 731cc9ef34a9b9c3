import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { BUNDLE, NODE } from '../helpers/wrapper.ts';

const rustup = join(homedir(), '.cargo', 'bin', 'rustc');
export const haveRustc = existsSync(rustup);
/** The toolchain's own rustc, not the rustup proxy. */
export const RUSTC = haveRustc ? join(execFileSync(rustup, ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), 'bin', 'rustc') : '';

/**
 * A Bazel-shaped output base: the real execroot `<ob>/execroot/ws` holds the
 * crate's sources and its dependency (Debian's itoa, compiled once); each
 * action gets `<ob>/sandbox/linux-sandbox/<N>/execroot/ws` whose inputs are
 * symlinks into the execroot, as linux-sandbox makes them. rustc is started
 * through `<ob>/tools/rustc`, a script that logs its cwd to `<ob>/rustc.log`
 * (which actions ran a compiler) and first sleeps the seconds in the file
 * `delay` of its cwd, if any (so a producer is reliably still before its
 * rmeta; the file is not an input, and the command line stays the same).
 */
export interface Workspace {
  ob: string;
  execroot: string;
  tool: string;
  /** The cwds rustc ran in, in order (the stable cwd when namespaced). */
  rustcRuns(): string[];
}

export function workspace(ob: string, source = crateSource()): Workspace {
  const execroot = join(ob, 'execroot', 'ws');
  mkdirSync(join(execroot, 'app'), { recursive: true });
  mkdirSync(join(execroot, 'deps'), { recursive: true });
  writeFileSync(join(execroot, 'app', 'lib.rs'), source);
  writeFileSync(join(execroot, 'app', 'more.rs'), 'pub fn more() -> u32 { 7 }\n');
  const itoa = readdirSync('/usr/share/cargo/registry').filter((n) => n.startsWith('itoa-')).sort().at(-1)!;
  cpSync(join('/usr/share/cargo/registry', itoa), join(ob, 'itoa'), { recursive: true, dereference: true });
  execFileSync(RUSTC, [join(ob, 'itoa', 'src', 'lib.rs'), '--crate-name=itoa', '--crate-type=rlib', '--edition=2018', '--emit=link,metadata', '--out-dir', join(execroot, 'deps'), '-Cmetadata=itoa1', '-Cextra-filename=-itoa1', '--cap-lints=allow']);
  const tools = join(ob, 'tools');
  mkdirSync(tools);
  const tool = join(tools, 'rustc');
  writeFileSync(tool, `#!/bin/sh\necho "$PWD" >> '${join(ob, 'rustc.log')}'\n[ -f delay ] && sleep "$(cat delay)"\nexec '${RUSTC}' "$@"\n`);
  chmodSync(tool, 0o755);
  return {
    ob,
    execroot,
    tool,
    rustcRuns: () => (existsSync(join(ob, 'rustc.log')) ? readFileSync(join(ob, 'rustc.log'), 'utf8').split('\n').filter(Boolean) : []),
  };
}

/** A crate with a module, a dependency and a warning before the rmeta (an unused variable), big enough to take a moment. */
export function crateSource(extra = ''): string {
  const fns = Array.from({ length: 300 }, (_, i) => `pub fn f${i}(x: u64) -> String { itoa::Buffer::new().format(x.wrapping_mul(${i + 3}).rotate_left(${i % 13})).to_string() }`).join('\n');
  return `pub mod more;\n${fns}\npub fn answer() -> u32 { let unused = 1; more::more() * 6 }\n${extra}`;
}

/** A sandbox for one action: inputs as symlinks into the execroot (or where `link` says), its own empty `out/`, rustc `delay`ed. */
export function sandbox(ws: Workspace, n: number, opts: { delay?: number; link?: (rel: string) => string } = {}): string {
  const link = opts.link ?? ((rel: string) => join(ws.execroot, rel));
  const dir = join(ws.ob, 'sandbox', 'linux-sandbox', String(n), 'execroot', 'ws');
  for (const rel of ['app/lib.rs', 'app/more.rs', 'deps/libitoa-itoa1.rmeta', 'deps/libitoa-itoa1.rlib']) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    symlinkSync(link(rel), join(dir, rel));
  }
  mkdirSync(join(dir, 'out'));
  if (opts.delay !== undefined) writeFileSync(join(dir, 'delay'), String(opts.delay));
  return dir;
}

/** rules_rust's command line for the crate; the metadata action adds `--rustc-quit-on-rmeta true` and has its own --output-file. */
export function actionArgs(ws: Workspace, kind: 'metadata' | 'full', rustc: string[] = []): string[] {
  return [
    '--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--rustc-output-format', 'rendered',
    ...(kind === 'metadata' ? ['--rustc-quit-on-rmeta', 'true', '--output-file', 'out/app.rmeta-output'] : ['--output-file', 'out/app.rlib-output']),
    '--',
    ws.tool, 'app/lib.rs', '--crate-name=app', '--crate-type=rlib', '--edition=2018', '--error-format=json', '--json=artifacts',
    '--emit=dep-info,link,metadata', '--out-dir=out', '-Cmetadata=app1', '-Cextra-filename=-app1', '-Copt-level=0', '-Cdebuginfo=0',
    '--remap-path-prefix=${output_base}=ob', '--remap-path-prefix=${pwd}=.', '--extern=itoa=deps/libitoa-itoa1.rmeta', '-Ldependency=deps',
    ...rustc,
  ];
}

export const RMETA = join('out', 'libapp-app1.rmeta');

/** The bundle as a real process in its own process group (so a test can end it and its rustc together). */
export function action(cwd: string, args: string[], env: Record<string, string> = {}): ResultPromise<{ cwd: string; env: Record<string, string>; extendEnv: false; reject: false; encoding: 'buffer'; stripFinalNewline: false; detached: true }> {
  return execa(NODE, ['--', BUNDLE, ...args], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: homedir(), ...env }, extendEnv: false, reject: false, encoding: 'buffer', stripFinalNewline: false, detached: true });
}

/** Waits until `dir` holds a rendezvous socket (the producer is listening). */
export async function socketAppears(dir: string, timeoutMs = 60_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const sock = existsSync(dir) ? readdirSync(dir).find((n) => n.endsWith('.sock')) : undefined;
    if (sock) return join(dir, sock);
    if (Date.now() > end) throw new Error(`no socket in ${dir} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
