#!/usr/bin/env node
// Generates the scale workspace of issue 17 (bench/scale): Debian's crate
// sources (/usr/share/cargo/registry, librust-*-dev) as workspace crates plus
// first-party libraries, a proc-macro, build scripts, 2 binaries and a test,
// in ONE directory that is both
//   - a Bazel 4.2.3 workspace for the example's rules_rust-shaped rules
//     (examples/bazel/rust copied, with bench/scale/rules/scale.bzl.in appended
//     to defs.bzl: proc-macros, cargo_build_script-like build scripts), and
//   - a Cargo workspace of path crates (offline; our own Cargo.toml per crate
//     with exactly the features and dependencies the Bazel side uses, so no
//     dev- or optional dependency Debian lacks is ever resolved).
// Both sides compile the same sources, so one edit is seen by both.
//
//   node bench/scale/generate.mjs DIR [--smoke] [--wrapper FILE] [--rustc PATH]
//
// Exported for the runner and the smoke test: generate(dir, opts) and EDITS.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
const REGISTRY = '/usr/share/cargo/registry';

// Debian crates compiled as workspace crates: package, features (all on,
// exactly as listed, on both sides), deps, build deps, proc-macro.
const REGEX_SYNTAX_FEATURES = ['default', 'unicode', 'unicode-age', 'unicode-bool', 'unicode-case', 'unicode-gencat', 'unicode-perl', 'unicode-script', 'unicode-segment'];
const DEBIAN = [
  { pkg: 'unicode-ident' },
  { pkg: 'proc-macro2', features: ['proc-macro'], deps: ['unicode-ident'] },
  { pkg: 'quote', features: ['proc-macro'], deps: ['proc-macro2'] },
  { pkg: 'syn', features: ['derive', 'parsing', 'printing', 'clone-impls', 'proc-macro', 'full', 'visit', 'extra-traits'], deps: ['proc-macro2', 'quote', 'unicode-ident'] },
  { pkg: 'serde_derive', deps: ['proc-macro2', 'quote', 'syn'], procMacro: true },
  { pkg: 'serde', features: ['std', 'derive', 'serde_derive'], deps: ['serde_derive'] },
  { pkg: 'itoa' },
  { pkg: 'ryu' },
  { pkg: 'serde_json', features: ['std'], deps: ['serde', 'itoa', 'ryu'] },
  { pkg: 'memchr', features: ['std'] },
  { pkg: 'aho-corasick', features: ['default', 'std'], deps: ['memchr'] },
  { pkg: 'regex-syntax', features: REGEX_SYNTAX_FEATURES },
  {
    pkg: 'regex',
    features: ['default', 'std', 'perf', 'perf-cache', 'perf-dfa', 'perf-inline', 'perf-literal', 'aho-corasick', 'memchr', ...REGEX_SYNTAX_FEATURES.slice(1)],
    deps: ['aho-corasick', 'memchr', 'regex-syntax'],
  },
  { pkg: 'libc', features: ['std'] },
  { pkg: 'cfg-if' },
  { pkg: 'log', features: ['std'], deps: ['cfg-if'] },
  { pkg: 'once_cell', features: ['std', 'alloc', 'race'] },
  { pkg: 'lazy_static' },
  { pkg: 'scopeguard', features: ['use_std'] },
  { pkg: 'smallvec' },
  { pkg: 'either', features: ['use_std'] },
  { pkg: 'crossbeam-utils', features: ['std'], deps: ['cfg-if'] },
  { pkg: 'autocfg' },
  { pkg: 'memoffset', buildDeps: ['autocfg'] },
  { pkg: 'crossbeam-epoch', features: ['std', 'alloc'], deps: ['cfg-if', 'crossbeam-utils', 'memoffset', 'scopeguard'], buildDeps: ['autocfg'] },
  { pkg: 'hashbrown', features: ['raw', 'inline-more'] },
  { pkg: 'indexmap', features: ['std'], deps: ['hashbrown'], buildDeps: ['autocfg'] },
];
const SMOKE_DEBIAN = new Set(['unicode-ident', 'proc-macro2', 'quote', 'itoa', 'memchr']);

// First-party crates, bottom to top: each depends on the one before it (the
// deep chain) plus Debian crates; deps missing from a smoke run are dropped.
const FIRST_PARTY = [
  { name: 'fp_macros', procMacro: true, deps: ['proc-macro2', 'quote', 'syn'] },
  { name: 'fp_core', deps: ['serde', 'once_cell', 'log', 'smallvec', 'itoa'], buildScript: true },
  { name: 'fp_model', deps: ['fp_core', 'fp_macros', 'serde', 'serde_json'] },
  { name: 'fp_text', deps: ['fp_model', 'regex', 'memchr', 'aho-corasick', 'lazy_static'] },
  { name: 'fp_index', deps: ['fp_text', 'fp_core', 'fp_macros', 'indexmap', 'hashbrown', 'either', 'memchr'], sigProbe: true },
  { name: 'fp_sync', deps: ['fp_index', 'crossbeam-epoch', 'crossbeam-utils', 'scopeguard'] },
  { name: 'fp_query', deps: ['fp_sync', 'regex', 'cfg-if'] },
  { name: 'fp_report', deps: ['fp_query', 'serde', 'serde_json', 'itoa', 'ryu'] },
  { name: 'fp_api', deps: ['fp_report', 'fp_index', 'libc', 'log', 'unicode-ident'], top: true, test: true },
];
const SMOKE_FIRST_PARTY = new Set(['fp_macros', 'fp_core', 'fp_index', 'fp_api']);
const BINARIES = [
  { name: 'app_cli', deps: ['fp_api', 'log'] },
  { name: 'app_batch', deps: ['fp_api', 'serde_json'] },
];

const ident = (pkg) => pkg.replace(/-/g, '_');

// What each dependency contributes to a first-party crate's code (a function
// returning a u64 that actually calls into the crate).
const USE = {
  serde: 'fn use_serde() -> u64 { 1 }',
  serde_json: 'fn use_serde_json() -> u64 { let v: serde_json::Value = serde_json::from_str("{\\"a\\": [1, 2, 3]}").unwrap(); v["a"].as_array().map(|a| a.len() as u64).unwrap_or(0) }',
  once_cell: 'static LAZY: once_cell::sync::Lazy<Vec<u64>> = once_cell::sync::Lazy::new(|| (0..16).collect());\nfn use_once_cell() -> u64 { LAZY.iter().sum() }',
  log: 'fn use_log() -> u64 { log::debug!("weights"); log::max_level() as u64 }',
  smallvec: 'fn use_smallvec() -> u64 { let mut v: smallvec::SmallVec<[u64; 4]> = smallvec::SmallVec::new(); for i in 0..6 { v.push(i); } v.len() as u64 }',
  itoa: 'fn use_itoa() -> u64 { let mut b = itoa::Buffer::new(); b.format(12345u64).len() as u64 }',
  ryu: 'fn use_ryu() -> u64 { let mut b = ryu::Buffer::new(); b.format(1.5f64).len() as u64 }',
  regex: 'fn use_regex() -> u64 { let re = regex::Regex::new(r"[a-z]+[0-9]*").unwrap(); re.find_iter("ab1 cd22 ef").count() as u64 }',
  memchr: 'fn use_memchr() -> u64 { memchr::memchr(b\'z\', b"abcz").map(|i| i as u64).unwrap_or(0) }',
  'aho-corasick': 'fn use_aho_corasick() -> u64 { let ac = aho_corasick::AhoCorasick::new(&["ab", "cd"]); ac.find_iter("abcdab").count() as u64 }',
  lazy_static: 'lazy_static::lazy_static! { static ref WORDS: Vec<&\'static str> = vec!["a", "bb", "ccc"]; }\nfn use_lazy_static() -> u64 { WORDS.len() as u64 }',
  indexmap: 'fn use_indexmap() -> u64 { let mut m = indexmap::IndexMap::new(); m.insert("a", 1u64); m.insert("b", 2); m.values().sum() }',
  hashbrown: 'fn use_hashbrown() -> u64 { let mut m = hashbrown::HashMap::with_hasher(std::collections::hash_map::RandomState::new()); m.insert(1u64, 2u64); m.len() as u64 }',
  either: 'fn use_either() -> u64 { let e: either::Either<u64, String> = either::Either::Left(3); e.left().unwrap_or(0) }',
  'crossbeam-epoch': 'fn use_crossbeam_epoch() -> u64 { let _g = crossbeam_epoch::pin(); 1 }',
  'crossbeam-utils': 'fn use_crossbeam_utils() -> u64 { let c = crossbeam_utils::CachePadded::new(7u64); *c }',
  scopeguard: 'fn use_scopeguard() -> u64 { let g = scopeguard::guard(5u64, |_| ()); *g }',
  'cfg-if': 'cfg_if::cfg_if! { if #[cfg(unix)] { fn os_weight() -> u64 { 1 } } else { fn os_weight() -> u64 { 2 } } }\nfn use_cfg_if() -> u64 { os_weight() }',
  libc: 'fn use_libc() -> u64 { unsafe { libc::getpid() as u64 } }',
  'unicode-ident': "fn use_unicode_ident() -> u64 { unicode_ident::is_xid_start('a') as u64 }",
  fp_macros: 'fn use_fp_macros() -> u64 { 1 }',
};

function records(prefix, n, { serde, describe, json }) {
  const derives = ['Debug', 'Clone', 'PartialEq', ...(serde ? ['serde::Serialize', 'serde::Deserialize'] : []), ...(describe ? ['fp_macros::Describe'] : [])];
  let s = '';
  for (let i = 0; i < n; i++) {
    s += `
#[derive(${derives.join(', ')})]
pub struct ${prefix}Rec${i} {
    pub id: u64,
    pub name: String,
    pub tags: Vec<String>,
    pub score: f64,
    pub parts: Vec<u32>,
}

impl ${prefix}Rec${i} {
    pub fn new(id: u64) -> Self {
        ${prefix}Rec${i} { id, name: format!("r${i}-{}", id), tags: vec![format!("t{}", id % 7)], score: id as f64 * ${i}.5, parts: (0..(id % 5) as u32).collect() }
    }

    pub fn weight(&self) -> u64 {
        self.id.wrapping_mul(${i + 3}) ^ self.name.len() as u64 ^ self.tags.len() as u64 ^ self.parts.iter().map(|&p| p as u64).sum::<u64>() ^ (self.score as u64)
    }
${json ? `
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap()
    }
` : ''}}
`;
  }
  return s;
}

const TOP_ANCHOR = '    let salt: u64 = 0; // top edit\n';
const SIG_U32 = 'pub fn sig_probe(x: u32) -> u32 {\n    x.rotate_left(3)\n}\n';
const SIG_U64 = 'pub fn sig_probe(x: u64) -> u64 {\n    x.rotate_left(3)\n}\n';

function firstPartyLib(fp, deps, n) {
  const has = (d) => deps.includes(d);
  const prefix = fp.name.replace(/^fp_/, '').replace(/^./, (c) => c.toUpperCase());
  const uses = deps.map((d) => (d.startsWith('fp_') && d !== 'fp_macros' ? `fn use_${d}() -> u64 { ${d}::weight_of(3) }` : USE[d])).filter(Boolean);
  const useNames = deps.filter((d) => (d.startsWith('fp_') && d !== 'fp_macros') || USE[d]).map((d) => `use_${ident(d)}()`);
  let s = `//! ${fp.name}: first-party library of the scale workspace (bench/scale/generate.mjs).\n`;
  if (fp.buildScript) s += '\ninclude!(concat!(env!("OUT_DIR"), "/generated.rs"));\n\n#[cfg(fp_core_generated)]\npub const BUILD: &str = env!("FP_CORE_BUILD");\n';
  s += `\n${uses.join('\n')}\n`;
  s += `\npub fn deps_weight() -> u64 {\n    0${useNames.map((u) => ` ^ ${u}`).join('')}\n}\n`;
  s += records(prefix, n, { serde: has('serde'), describe: has('fp_macros'), json: has('serde_json') && has('serde') });
  const recs = Array.from({ length: n }, (_, i) => `    w ^= ${prefix}Rec${i}::new(x.wrapping_add(${i})).weight();\n`).join('');
  s += `\npub fn weight_of(x: u64) -> u64 {\n    let mut w = x;\n${recs}${fp.buildScript ? '    w ^= TABLE[(x % 32) as usize];\n' : ''}    w ^ deps_weight()\n}\n`;
  if (fp.sigProbe) s += `\n/// The public signature the "signature change" edit toggles (u32 <-> u64).\n${SIG_U32}`;
  if (fp.top) {
    s += `\npub fn run(args: &[String]) -> String {\n${TOP_ANCHOR}    let w = weight_of(args.len() as u64 ^ salt);\n    format!("scale {} {}", args.len(), w)\n}\n`;
    s += '\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn run_is_stable() {\n        assert_eq!(super::run(&[]), super::run(&[]));\n    }\n}\n';
  }
  return s;
}

const FP_MACROS_SYN = `//! fp_macros: a first-party derive macro (syn + quote).
use proc_macro::TokenStream;
use quote::quote;

#[proc_macro_derive(Describe)]
pub fn derive_describe(input: TokenStream) -> TokenStream {
    let ast = syn::parse_macro_input!(input as syn::DeriveInput);
    let name = &ast.ident;
    let text = name.to_string();
    let fields = match &ast.data {
        syn::Data::Struct(s) => s.fields.len(),
        _ => 0,
    };
    quote! {
        impl #name {
            pub fn describe() -> &'static str { #text }
            pub fn field_count() -> usize { #fields }
        }
    }
    .into()
}
`;
const FP_MACROS_PLAIN = `//! fp_macros: a first-party derive macro (proc-macro2 + quote, no syn).
use proc_macro::TokenStream;
use quote::quote;

#[proc_macro_derive(Describe)]
pub fn derive_describe(input: TokenStream) -> TokenStream {
    let tokens: proc_macro2::TokenStream = input.into();
    let mut after_struct = false;
    let mut name = None;
    for t in tokens {
        if let proc_macro2::TokenTree::Ident(i) = t {
            if after_struct { name = Some(i); break; }
            after_struct = i == "struct";
        }
    }
    let name = name.expect("a struct");
    let text = name.to_string();
    quote! {
        impl #name {
            pub fn describe() -> &'static str { #text }
            pub fn field_count() -> usize { 0 }
        }
    }
    .into()
}
`;
const FP_CORE_BUILD_RS = `// fp_core's build script: generates code into OUT_DIR, prints a cfg and an env var.
use std::{env, fs, path::Path};

fn main() {
    let out = env::var("OUT_DIR").unwrap();
    let mut s = String::from("pub const TABLE: [u64; 32] = [");
    for i in 0..32u64 {
        s.push_str(&format!("{},", i * i + 7));
    }
    s.push_str("];\\n");
    fs::write(Path::new(&out).join("generated.rs"), s).unwrap();
    println!("cargo:rustc-check-cfg=cfg(fp_core_generated)");
    println!("cargo:rustc-cfg=fp_core_generated");
    println!("cargo:rustc-env=FP_CORE_BUILD=scale");
    println!("cargo:rerun-if-changed=build.rs");
}
`;

const starlarkList = (xs) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;

/** The real rustc behind rustup's proxy (actions have no PATH to find it on). */
export function realRustc() {
  const proxy = join(homedir(), '.cargo/bin/rustc');
  const rustc = existsSync(proxy) ? proxy : 'rustc';
  return join(execFileSync(rustc, ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), 'bin/rustc');
}

/**
 * Writes the workspace into dir (which must not exist or be empty). Returns
 * { crates, labels, edits } where edits are the edit kinds this size supports.
 */
export function generate(dir, { smoke = false, wrapper = join(repo, 'dist/seedwrap.cjs'), rustc = realRustc(), records: nRecords } = {}) {
  mkdirSync(dir, { recursive: true });
  const n = nRecords ?? (smoke ? 3 : 10);
  const debian = DEBIAN.filter((c) => !smoke || SMOKE_DEBIAN.has(c.pkg));
  const firstParty = FIRST_PARTY.filter((c) => !smoke || SMOKE_FIRST_PARTY.has(c.name));
  const present = new Set([...debian.map((c) => c.pkg), ...firstParty.map((c) => c.name)]);
  const label = (name) => (name.startsWith('fp_') || name.startsWith('app_') ? `//crates/${name}` : `//vendor/${name}`);
  const relPath = (name) => (name.startsWith('fp_') || name.startsWith('app_') ? `crates/${name}` : `vendor/${name}`);

  // Rules: the example's, plus the scale appendix.
  cpSync(join(repo, 'examples/bazel/rust'), join(dir, 'rust'), { recursive: true, dereference: true });
  const defs = join(dir, 'rust/defs.bzl');
  writeFileSync(defs, readFileSync(defs, 'utf8') + readFileSync(join(repo, 'bench/scale/rules/scale.bzl.in'), 'utf8'));
  copyFileSync(join(repo, 'bench/scale/rules/build_script_runner.cjs'), join(dir, 'rust/build_script_runner.cjs'));
  chmodSync(join(dir, 'rust/build_script_runner.cjs'), 0o755);
  writeFileSync(join(dir, 'rust/BUILD.bazel'), `${readFileSync(join(dir, 'rust/BUILD.bazel'), 'utf8')}\nexports_files(["build_script_runner.cjs"])\n\n# bench/scale: seedwrap flags for every compile (see scale.bzl.in).\nstring_list_flag(\n    name = "scale_wrapper_flags",\n    build_setting_default = [],\n)\n`);
  mkdirSync(join(dir, 'tools/seedwrap'), { recursive: true });
  copyFileSync(join(repo, 'examples/bazel/tools/seedwrap/BUILD.bazel'), join(dir, 'tools/seedwrap/BUILD.bazel'));
  copyFileSync(wrapper, join(dir, 'tools/seedwrap/seedwrap.cjs'));
  // The V8 code cache `npm run build` leaves beside the bundle, kept beside the
  // copy as docs/distribution.md says (same owner, not group/other-writable);
  // without it each store action compiles its code (about 6 ms more CPU).
  if (existsSync(`${wrapper}.v8cache`)) copyFileSync(`${wrapper}.v8cache`, join(dir, 'tools/seedwrap/seedwrap.cjs.v8cache'));
  chmodSync(join(dir, 'tools/seedwrap/seedwrap.cjs'), 0o755);
  copyFileSync(join(repo, 'examples/bazel/.bazelrc'), join(dir, '.bazelrc'));
  writeFileSync(join(dir, '.bazelrc'), `${readFileSync(join(dir, '.bazelrc'), 'utf8')}build --//rust:rustc=${rustc}\n`);
  writeFileSync(join(dir, 'WORKSPACE'), 'workspace(name = "seedwrap_scale")\n');
  writeFileSync(join(dir, 'BUILD.bazel'), '');

  const crates = [];
  const cargoToml = ({ pkg, version, edition, features, deps, buildDeps, procMacro, lib = true, test = false, bins = [] }) => {
    const featureSet = new Set(features);
    let t = `[package]\nname = "${pkg}"\nversion = "${version}"\nedition = "${edition}"\npublish = false\nautobins = false\nautoexamples = false\nautotests = false\nautobenches = false\n`;
    if (lib) t += `\n[lib]\npath = "src/lib.rs"\ntest = ${test}\ndoctest = false\nbench = false\n${procMacro ? 'proc-macro = true\n' : ''}`;
    for (const b of bins) t += `\n[[bin]]\nname = "${b}"\npath = "src/main.rs"\ntest = false\nbench = false\n`;
    const dep = (d) => `"${d}" = { path = "../../${relPath(d)}"${featureSet.has(d) ? ', optional = true' : ''} }\n`;
    t += `\n[dependencies]\n${deps.map(dep).join('')}`;
    if (buildDeps.length) t += `\n[build-dependencies]\n${buildDeps.map(dep).join('')}`;
    const named = features.filter((f) => f !== 'default');
    t += `\n[features]\ndefault = [${named.map((f) => `"${f}"`).join(', ')}]\n`;
    for (const f of named) t += `"${f}" = [${deps.includes(f) ? `"dep:${f}"` : ''}]\n`;
    return t;
  };

  for (const c of debian) {
    const src = readdirSync(REGISTRY).find((d) => d.startsWith(`${c.pkg}-`) && /^\d/.test(d.slice(c.pkg.length + 1)));
    if (!src) throw new Error(`${c.pkg} is not in ${REGISTRY}: apt-get install -y librust-${c.pkg.replace(/_/g, '-')}-dev`);
    const version = src.slice(c.pkg.length + 1);
    const to = join(dir, 'vendor', c.pkg);
    cpSync(join(REGISTRY, src), to, { recursive: true, dereference: true });
    const manifest = readFileSync(join(to, 'Cargo.toml'), 'utf8');
    const edition = /^edition\s*=\s*"(\d+)"/m.exec(manifest)?.[1] ?? '2015';
    rmSync(join(to, 'Cargo.toml'));
    for (const f of ['Cargo.toml.orig', '.cargo-checksum.json', 'Cargo.lock']) rmSync(join(to, f), { force: true });
    const features = c.features ?? [];
    const deps = (c.deps ?? []).filter((d) => present.has(d));
    const buildDeps = c.buildDeps ?? [];
    const hasBuildRs = existsSync(join(to, 'build.rs'));
    const common = `    edition = "${edition}",\n    crate_features = ${starlarkList(features)},\n    pkg_name = "${c.pkg}",\n    pkg_version = "${version}",\n`;
    let build = `load("//rust:defs.bzl", "scale_build_script", "scale_rust_library")\n\n# Debian's ${src} (a copy of /usr/share/cargo/registry/${src}).\n`;
    if (hasBuildRs) {
      build += `scale_build_script(\n    name = "build_script",\n    srcs = glob(["*.rs"]),\n    crate_root = "build.rs",\n${common}    deps = ${starlarkList(buildDeps.map(label))},\n)\n\n`;
    }
    build += `scale_rust_library(\n    name = "${c.pkg}",\n    srcs = glob(["src/**/*.rs"]),\n    crate_root = "src/lib.rs",\n${common}    deps = ${starlarkList(deps.map(label))},\n${hasBuildRs ? '    build_script = ":build_script",\n' : ''}${c.procMacro ? '    proc_macro = True,\n' : ''}    visibility = ["//visibility:public"],\n)\n`;
    writeFileSync(join(to, 'BUILD.bazel'), build);
    writeFileSync(join(to, 'Cargo.toml'), cargoToml({ pkg: c.pkg, version, edition, features, deps, buildDeps, procMacro: c.procMacro }));
    crates.push({ name: c.pkg, kind: c.procMacro ? 'proc-macro' : 'lib', origin: 'debian', deps, buildDeps, buildScript: hasBuildRs });
  }

  for (const fp of firstParty) {
    const to = join(dir, 'crates', fp.name);
    mkdirSync(join(to, 'src'), { recursive: true });
    const deps = fp.deps.filter((d) => present.has(d));
    if (fp.procMacro) writeFileSync(join(to, 'src/lib.rs'), deps.includes('syn') ? FP_MACROS_SYN : FP_MACROS_PLAIN);
    else writeFileSync(join(to, 'src/lib.rs'), firstPartyLib(fp, deps, n));
    if (fp.buildScript) writeFileSync(join(to, 'build.rs'), FP_CORE_BUILD_RS);
    const common = `    edition = "2021",\n    pkg_name = "${fp.name}",\n    pkg_version = "0.1.0",\n`;
    let build = `load("//rust:defs.bzl", "scale_build_script", "scale_rust_binary", "scale_rust_library")\n\n`;
    if (fp.buildScript) build += `scale_build_script(\n    name = "build_script",\n    srcs = ["build.rs"],\n    crate_root = "build.rs",\n${common})\n\n`;
    const libAttrs = `    srcs = glob(["src/**/*.rs"]),\n    crate_root = "src/lib.rs",\n${common}    deps = ${starlarkList(deps.map(label))},\n${fp.buildScript ? '    build_script = ":build_script",\n' : ''}`;
    build += `scale_rust_library(\n    name = "${fp.name}",\n${libAttrs}${fp.procMacro ? '    proc_macro = True,\n' : ''}    visibility = ["//visibility:public"],\n)\n`;
    if (fp.test) build += `\n# The library's unit tests (rustc --test), built as a binary: a Starlark test\n# rule would need @remote_coverage_tools, which Bazel 4.2.3 fetches.\nscale_rust_binary(\n    name = "${fp.name}_test",\n    crate_name = "${fp.name}",\n${libAttrs}    rustc_flags = ["--test"],\n)\n`;
    writeFileSync(join(to, 'BUILD.bazel'), build);
    writeFileSync(join(to, 'Cargo.toml'), cargoToml({ pkg: fp.name, version: '0.1.0', edition: '2021', features: [], deps, buildDeps: [], procMacro: fp.procMacro, test: !!fp.test }));
    crates.push({ name: fp.name, kind: fp.procMacro ? 'proc-macro' : 'lib', origin: 'first-party', deps, buildDeps: [], buildScript: !!fp.buildScript, test: !!fp.test });
  }

  for (const b of BINARIES) {
    const to = join(dir, 'crates', b.name);
    mkdirSync(join(to, 'src'), { recursive: true });
    const deps = b.deps.filter((d) => present.has(d));
    writeFileSync(join(to, 'src/main.rs'), `fn main() {\n    let args: Vec<String> = std::env::args().collect();\n    println!("${b.name}: {}", fp_api::run(&args));\n}\n`);
    writeFileSync(join(to, 'BUILD.bazel'), `load("//rust:defs.bzl", "scale_rust_binary")\n\nscale_rust_binary(\n    name = "${b.name}",\n    srcs = glob(["src/**/*.rs"]),\n    crate_root = "src/main.rs",\n    edition = "2021",\n    pkg_name = "${b.name}",\n    deps = ${starlarkList(deps.map(label))},\n)\n`);
    writeFileSync(join(to, 'Cargo.toml'), cargoToml({ pkg: b.name, version: '0.1.0', edition: '2021', features: [], deps, buildDeps: [], lib: false, bins: [b.name] }));
    crates.push({ name: b.name, kind: 'bin', origin: 'first-party', deps, buildDeps: [] });
  }

  const members = crates.map((c) => relPath(c.name));
  writeFileSync(
    join(dir, 'Cargo.toml'),
    `# The scale workspace as a Cargo workspace of path crates (bench/scale/generate.mjs).\n[workspace]\nresolver = "2"\nmembers = [\n${members.map((m) => `    "${m}",\n`).join('')}]\n\n# As the Bazel side (fastbuild: -Copt-level=0, no debuginfo).\n[profile.dev]\nopt-level = 0\ndebug = 0\n`,
  );
  writeFileSync(join(dir, '.gitignore'), 'bazel-*\ntarget/\n');
  return { dir, crates, smoke, levels: depth(crates), comment: smoke ? 'memchr' : 'regex' };
}

/** Longest dependency chain (normal and build deps), counted in crates. */
function depth(crates) {
  const by = Object.fromEntries(crates.map((c) => [c.name, c]));
  const memo = {};
  const d = (name) => (memo[name] ??= 1 + Math.max(0, ...[...by[name].deps, ...by[name].buildDeps].map(d)));
  return Math.max(...crates.map((c) => d(c.name)));
}

/**
 * The edits of issue 17, each `apply(dir, k)` for the k-th time it is applied
 * (k = 1, 2, ...): every application changes the file from its previous state.
 */
export const EDITS = {
  bottom: {
    what: 'body edit in the bottom crate (unicode-ident: is_xid_start)',
    file: 'vendor/unicode-ident/src/lib.rs',
    apply(dir, k) {
      const f = join(dir, this.file);
      const anchor = 'pub fn is_xid_start(ch: char) -> bool {\n';
      const text = readFileSync(f, 'utf8').replace(/    let _ = core::hint::black_box\(\d+u32\);\n/, '');
      if (!text.includes(anchor)) throw new Error(`${this.file}: no "${anchor.trim()}"`);
      writeFileSync(f, text.replace(anchor, `${anchor}    let _ = core::hint::black_box(${k}u32);\n`));
    },
  },
  top: {
    what: 'body edit in the top library (fp_api::run)',
    file: 'crates/fp_api/src/lib.rs',
    apply(dir, k) {
      const f = join(dir, this.file);
      const text = readFileSync(f, 'utf8');
      const next = text.replace(/    let salt: u64 = \d+; \/\/ top edit\n/, `    let salt: u64 = ${k}; // top edit\n`);
      if (next === text) throw new Error(`${this.file}: no top-edit line`);
      writeFileSync(f, next);
    },
  },
  comment: {
    what: 'comment edit in regex (a line appended to src/lib.rs)',
    file: (size) => `vendor/${size.comment}/src/lib.rs`,
    apply(dir, k, size) {
      writeFileSync(join(dir, this.file(size)), `${readFileSync(join(dir, this.file(size)), 'utf8')}\n// scale bench comment edit ${k}\n`);
    },
  },
  // A comment line inserted at the top of the same file: every span of the
  // file moves. The appended comment above moves none, and with -Cincremental
  // rustc 1.95 then writes a byte-identical rmeta (without it the rmeta
  // changes: by hand, docs/benchmarks.md), so Bazel reruns no dependent's
  // metadata action; this edit shows the case where it must.
  commenttop: {
    what: 'comment edit at the top of regex (a line inserted before line 1 of src/lib.rs: every span moves)',
    file: (size) => `vendor/${size.comment}/src/lib.rs`,
    apply(dir, k, size) {
      const f = join(dir, this.file(size));
      const text = readFileSync(f, 'utf8').replace(/^\/\/ scale bench top comment \d+\n/, '');
      writeFileSync(f, `// scale bench top comment ${k}\n${text}`);
    },
  },
  signature: {
    what: 'public signature change in a middle crate (fp_index::sig_probe u32 <-> u64)',
    file: 'crates/fp_index/src/lib.rs',
    apply(dir, k) {
      const f = join(dir, this.file);
      const text = readFileSync(f, 'utf8');
      const [from, to] = k % 2 === 1 ? [SIG_U32, SIG_U64] : [SIG_U64, SIG_U32];
      if (!text.includes(from)) throw new Error(`${this.file}: sig_probe is not in the expected state`);
      writeFileSync(f, text.replace(from, to));
    },
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const dir = argv.find((a) => !a.startsWith('--') && argv[argv.indexOf(a) - 1] !== '--wrapper' && argv[argv.indexOf(a) - 1] !== '--rustc');
  if (!dir) {
    process.stderr.write('usage: node bench/scale/generate.mjs DIR [--smoke] [--wrapper FILE] [--rustc PATH]\n');
    process.exit(2);
  }
  const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const r = generate(dir, { smoke: argv.includes('--smoke'), wrapper: opt('--wrapper'), rustc: opt('--rustc') });
  const count = (p) => r.crates.filter(p).length;
  process.stdout.write(
    `${dir}: ${r.crates.length} crates (${count((c) => c.origin === 'debian')} Debian, ${count((c) => c.origin === 'first-party' && c.kind !== 'bin')} first-party libraries, ${count((c) => c.kind === 'proc-macro')} proc-macros, ${count((c) => c.buildScript)} build scripts, ${count((c) => c.kind === 'bin')} binaries, ${count((c) => c.test)} test); ${r.levels} levels\n`,
  );
}
