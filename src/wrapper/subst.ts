import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { upstreamOutputBase } from '../bazelLayout.ts';
import { SeedwrapError } from '../errors.ts';

/** One `--subst KEY=VALUE` mapping, in flag order. */
export interface Mapping {
  key: string;
  value: string;
}

/**
 * Parses `--subst` values (then `out_dir=D` for `--out-dir`, after the
 * user's). A value that is exactly `${pwd}`, `${output_base}` or `${exec_root}`
 * stands for that directory; Bazel passes these so a sandboxed action's paths
 * are known only when it runs. `pwd` is where the child will run: the cwd,
 * or the stable path of `--stable-cwd`.
 */
export function parseSubsts(values: readonly string[], cwd: string, outDir: string | undefined, pwd = cwd): Mapping[] {
  let outputBase: string | undefined;
  const getOutputBase = () => (outputBase ??= childOutputBase(cwd, pwd));
  const mappings = values.map((entry): Mapping => {
    const eq = entry.indexOf('=');
    if (eq < 0) throw new SeedwrapError('USAGE', `--subst "${entry}" has no "=" (expected KEY=VALUE)`);
    const key = entry.slice(0, eq);
    let value = entry.slice(eq + 1);
    if (value === '${pwd}') value = pwd;
    else if (value === '${output_base}') value = getOutputBase();
    else if (value === '${exec_root}') value = join(getOutputBase(), 'execroot', basename(pwd));
    return { key, value };
  });
  if (outDir !== undefined) mappings.push({ key: 'out_dir', value: outDir });
  return mappings;
}

/**
 * `${output_base}` for a child running in `pwd` (the cwd, or the stable cwd):
 * upstream's value (bazelLayout.ts), byte-compatible with its process_wrapper.
 * It is only ever a substitution value: where the store goes is decided from
 * the validated layout (src/store/sandboxPaths.ts), never from this.
 */
export function childOutputBase(cwd: string, pwd = cwd): string {
  return seenFrom(pwd, cwd, upstreamOutputBase(cwd));
}

/**
 * A directory found from the action's cwd, as the child sees it from `pwd`
 * (the stable cwd): an ancestor of cwd N levels up is pwd's ancestor N levels
 * up, so `${output_base}` is `<output_base>/sandbox/stable` there, the same in
 * every build, as `${pwd}` is.
 */
function seenFrom(pwd: string, cwd: string, found: string): string {
  if (pwd === cwd) return found;
  const rel = relative(found, realOr(cwd));
  if (rel !== '' && (rel.startsWith('..') || isAbsolute(rel))) return found;
  const up = rel === '' ? 0 : rel.split(sep).length;
  let dir = pwd;
  for (let i = 0; i < up; i++) dir = dirname(dir);
  return dir;
}

function realOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Replaces every `${KEY}`, mapping by mapping, so a later mapping sees an earlier one's result. */
export function applySubsts(text: string, mappings: readonly Mapping[]): string {
  if (!text.includes('${')) return text;
  for (const { key, value } of mappings) text = replaceLiteral(text, '${' + key + '}', value);
  return text;
}

/**
 * Every occurrence of `from` replaced by `to`, both taken literally.
 * `String#replaceAll` with a string would read `$&`, `$$`, `` $` `` and `$'`
 * in `to` as patterns; upstream's Rust `str::replace` does not.
 */
export function replaceLiteral(text: string, from: string, to: string): string {
  return text.includes(from) ? text.split(from).join(to) : text;
}
