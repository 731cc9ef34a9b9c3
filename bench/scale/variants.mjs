// The variants bench/scale/run.mjs measures side by side. A new variant is one
// entry here:
//   { name, kind: 'bazel', flags: [...bazel flags],
//     store?: 'rustc-incremental'     an <output_base> directory to create, to make
//                                     writable (--sandbox_writable_path) and to
//                                     empty before a cold build
//     clear?: ['seedwrap-incremental'] other <output_base> dirs emptied before a cold build
//     rustcEnv?: ['KEY=VALUE', ...]   added to every rustc action's environment
//     wrapperFlags?: ['--flag', 'v']  added to every compile's seedwrap flags
//     pipelineDir?: true              SEEDWRAP_PIPELINE_DIR=<a fresh 0700 dir of the
//                                     bench's temp root> in every rustc action's env
//     externalWrapper?: true          the workspace's wrapper is the binary given
//                                     with --external-wrapper FILE instead of seedwrap }
//   { name, kind: 'cargo', env: {...} }
// e.g. a later pipelining feature of the store behind an env var:
//   { ...STORE, name: 'store+rendezvous', rustcEnv: ['SEEDWRAP_RENDEZVOUS=1'] }
export const MAIN = '--//rust:flavor=rules_rust_main';
export const SANDBOX = '--spawn_strategy=linux-sandbox';
export const STORE_FLAG = '--//rust/settings:extra_rustc_flags=-Cincremental=${output_base}/rustc-incremental';
export const WORKER = ['--//rust:worker=true', '--strategy=Rustc=worker', '--strategy=RustcMetadata=worker'];

export const PLAIN = { name: 'plain', kind: 'bazel', flags: [MAIN, SANDBOX] };
export const STORE = { name: 'store', kind: 'bazel', flags: [MAIN, SANDBOX, STORE_FLAG], store: 'rustc-incremental' };
export const WORKER_STORE = {
  name: 'worker',
  kind: 'bazel',
  flags: [MAIN, SANDBOX, ...WORKER, '--//rust:worker_startup_flags=--worker-incremental-dir,auto'],
  clear: ['seedwrap-incremental'],
};
// PR #3925 tree seeding: the example's pr3925 flavor (seed actions, incremental
// tree artifacts, --stable-cwd), every crate seeded (seed_min_mb=0).
export const TREE = { name: 'tree', kind: 'bazel', flags: ['--//rust:flavor=pr3925', SANDBOX, '--//rust:seed=true', '--//rust:seed_min_mb=0'] };
export const CARGO_INCR = { name: 'cargo-incr', kind: 'cargo', env: { CARGO_INCREMENTAL: '1' } };
export const CARGO_NOINCR = { name: 'cargo-noincr', kind: 'cargo', env: { CARGO_INCREMENTAL: '0' } };

export const VARIANTS = [PLAIN, STORE, WORKER_STORE, TREE, CARGO_INCR, CARGO_NOINCR];

// Only by name (--variants), for issue 17's one-rustc-per-crate goal
// (docs/pipelining.md, design (a)); each with the wrapper's debug lines, so the
// bench can count the metadata actions that took their rmeta:
//   plain-off   seedwrap, SEEDWRAP_PIPELINE=off: both actions of a crate run rustc
//   plain-pipe  seedwrap, SEEDWRAP_PIPELINE_DIR: the metadata action takes the rmeta
//   external    another process_wrapper binary (--external-wrapper FILE, e.g. one
//               built from rules_rust's util/process_wrapper), the same rules
const DEBUG = 'RULES_RUST_PROCESS_WRAPPER_DEBUG=1';
export const PLAIN_OFF = { name: 'plain-off', kind: 'bazel', flags: [MAIN, SANDBOX], rustcEnv: [DEBUG, 'SEEDWRAP_PIPELINE=off'] };
export const PLAIN_PIPE = { name: 'plain-pipe', kind: 'bazel', flags: [MAIN, SANDBOX], rustcEnv: [DEBUG], pipelineDir: true };
export const EXTERNAL = { name: 'external', kind: 'bazel', flags: [MAIN, SANDBOX], rustcEnv: [DEBUG], externalWrapper: true };
export const ALL_VARIANTS = [...VARIANTS, PLAIN_OFF, PLAIN_PIPE, EXTERNAL];
