#!/usr/bin/env node
// CargoBuildScriptRun for the scale workspace (bench/scale): runs a compiled
// build script the way Cargo does (cwd = the package, Cargo's environment),
// and turns what it prints into the files rules_rust's cargo_build_script
// hands to the crate's compiles:
//   FLAGS       --cfg=... / -l... lines (seedwrap --arg-file)
//   LINKPATHS   -L... lines (seedwrap --arg-file)
//   ENV         OUT_DIR=${pwd}/<out dir> and cargo:rustc-env pairs (seedwrap --env-file)
// argv: EXE OUT_DIR FLAGS LINKPATHS ENV PACKAGE RUSTC PKG_NAME PKG_VERSION FEATURE...
'use strict';
const { spawnSync } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const [exe, outDir, flagsFile, linksFile, envFile, pkg, rustc, pkgName, pkgVersion, ...features] = process.argv.slice(2);
const cwd = process.cwd();
mkdirSync(outDir, { recursive: true });
const [major = '0', minor = '0', patch = '0'] = pkgVersion.split('-')[0].split('.');
const env = {
  PATH: '/usr/bin:/bin',
  CARGO: '/bin/false',
  CARGO_MANIFEST_DIR: join(cwd, pkg),
  CARGO_PKG_NAME: pkgName,
  CARGO_PKG_VERSION: pkgVersion,
  CARGO_PKG_VERSION_MAJOR: major,
  CARGO_PKG_VERSION_MINOR: minor,
  CARGO_PKG_VERSION_PATCH: patch,
  CARGO_PKG_VERSION_PRE: '',
  OUT_DIR: join(cwd, outDir),
  RUSTC: rustc,
  RUSTDOC: rustc.replace(/rustc$/, 'rustdoc'),
  TARGET: 'x86_64-unknown-linux-gnu',
  HOST: 'x86_64-unknown-linux-gnu',
  OPT_LEVEL: '0',
  PROFILE: 'debug',
  DEBUG: 'false',
  NUM_JOBS: '1',
  CARGO_ENCODED_RUSTFLAGS: '',
  CARGO_CFG_TARGET_ARCH: 'x86_64',
  CARGO_CFG_TARGET_OS: 'linux',
  CARGO_CFG_TARGET_FAMILY: 'unix',
  CARGO_CFG_TARGET_ENV: 'gnu',
  CARGO_CFG_TARGET_VENDOR: 'unknown',
  CARGO_CFG_TARGET_ENDIAN: 'little',
  CARGO_CFG_TARGET_POINTER_WIDTH: '64',
  CARGO_CFG_TARGET_HAS_ATOMIC: '16,32,64,8,ptr',
  CARGO_CFG_TARGET_FEATURE: 'fxsr,sse,sse2',
  CARGO_CFG_UNIX: '',
  CARGO_CFG_PANIC: 'unwind',
  CARGO_CFG_DEBUG_ASSERTIONS: '',
};
for (const f of features) env[`CARGO_FEATURE_${f.toUpperCase().replace(/-/g, '_')}`] = '1';

const r = spawnSync(join(cwd, exe), [], { cwd: join(cwd, pkg), env, encoding: 'utf8', maxBuffer: 64 << 20 });
if (r.status !== 0) {
  process.stderr.write(`build script ${exe} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  process.exit(1);
}
const flags = [];
const links = [];
const envLines = [`OUT_DIR=\${pwd}/${outDir}`];
for (const line of r.stdout.split('\n')) {
  const m = /^cargo::?([a-z-]+)=(.*)$/.exec(line.trim());
  if (!m) continue;
  const [, key, value] = m;
  if (key === 'rustc-cfg') flags.push(`--cfg=${value}`);
  else if (key === 'rustc-env') envLines.push(value);
  else if (key === 'rustc-link-lib') flags.push(`-l${value}`);
  else if (key === 'rustc-link-search') links.push(`-L${value}`);
  else if (key === 'rustc-flags') flags.push(...value.split(/\s+/).filter(Boolean));
  // rerun-if-*, warning, rustc-check-cfg: nothing for the compile.
}
writeFileSync(flagsFile, flags.map((l) => `${l}\n`).join(''));
writeFileSync(linksFile, links.map((l) => `${l}\n`).join(''));
writeFileSync(envFile, envLines.map((l) => `${l}\n`).join(''));
