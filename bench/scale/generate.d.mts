// Types for bench/scale/generate.mjs (test/bench/scale-smoke.test.ts imports it).
export interface ScaleCrate {
  name: string;
  kind: 'lib' | 'proc-macro' | 'bin';
  origin: 'debian' | 'first-party';
  deps: string[];
  buildDeps: string[];
  buildScript?: boolean;
  test?: boolean;
}
export interface ScaleWorkspace {
  dir: string;
  crates: ScaleCrate[];
  smoke: boolean;
  levels: number;
  comment: string;
}
export const repo: string;
export function realRustc(): string;
export function generate(dir: string, opts?: { smoke?: boolean; wrapper?: string; rustc?: string; records?: number }): ScaleWorkspace;
export const EDITS: Record<'bottom' | 'top' | 'comment' | 'signature', { what: string; apply(dir: string, k: number, size: ScaleWorkspace): void }>;
