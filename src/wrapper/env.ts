import { join } from 'node:path';
import { SeedwrapError } from '../errors.ts';
import { readLineFile } from './lineFile.ts';
import { applySubsts, replaceLiteral, type Mapping } from './subst.ts';

export interface EnvInputs {
  inherited: Record<string, string | undefined>;
  envFiles: readonly string[];
  stableStatusFile: string | undefined;
  volatileStatusFile: string | undefined;
  outDir: string | undefined;
  cwd: string;
  mappings: readonly Mapping[];
  resolvePath: (p: string) => string;
}

/**
 * The child's environment: inherited env, overlaid by env files in order
 * (later wins), OUT_DIR from `--out-dir`, then stamps, then substitutions,
 * applied to every value (inherited ones too), never to keys.
 */
export function buildChildEnv(inputs: EnvInputs): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs.inherited)) if (v !== undefined) env[k] = v;
  for (const file of inputs.envFiles) {
    for (const line of readLineFile(inputs.resolvePath(file), `--env-file ${file}`)) {
      const eq = line.indexOf('=');
      if (eq < 0) throw new SeedwrapError('INPUT', `--env-file ${file}: line "${line}" has no "=" (expected KEY=VALUE)`);
      env[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  // OUT_DIR travels as a flag because a build script's output directory is
  // only known relative to the action's cwd, which Bazel decides at run time.
  if (inputs.outDir !== undefined) env.OUT_DIR = join(inputs.cwd, inputs.outDir);

  const stamps = [
    ...readStatusFile(inputs.stableStatusFile, '--stable-status-file', inputs.resolvePath),
    ...readStatusFile(inputs.volatileStatusFile, '--volatile-status-file', inputs.resolvePath),
  ];
  const keys = Object.keys(env);
  for (const [key, value] of stamps) {
    const from = `{${key}}`;
    for (const k of keys) env[k] = replaceLiteral(env[k]!, from, value);
  }
  if (inputs.mappings.length > 0) for (const k of keys) env[k] = applySubsts(env[k]!, inputs.mappings);
  return env;
}

/** Bazel workspace status files: `KEY VALUE` lines, split at the first space. */
function readStatusFile(path: string | undefined, flag: string, resolvePath: (p: string) => string): [string, string][] {
  if (path === undefined) return [];
  return readLineFile(resolvePath(path), `${flag} ${path}`).map((line) => {
    const sp = line.indexOf(' ');
    if (sp < 0) throw new SeedwrapError('INPUT', `${flag} ${path}: malformed status line "${line}" (expected "KEY VALUE")`);
    return [line.slice(0, sp), line.slice(sp + 1)];
  });
}
