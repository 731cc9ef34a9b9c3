#!/usr/bin/env bash
# Import cost of each design-card package, measured as whole-process start-up
# (node + load + a line that uses the import), each case in its own hyperfine
# run next to the empty-script floors:
#   floor-cjs / floor-mjs   node running an empty .cjs / .mjs file
#   unbundled               the package loaded from node_modules (its own format:
#                           require() for CommonJS packages, import for ESM-only ones)
#   bundled                 the same entry bundled and minified by esbuild into one
#                           CommonJS file, as scripts/build.mjs builds dist/seedwrap.cjs
#   bundled-unused          that bundle wrapped in a function that is never called:
#                           what a package costs a one-shot action when it sits in
#                           dist/seedwrap.cjs behind a lazy import() that this action
#                           never takes (esbuild inlines the import() target into the
#                           same file, and V8 still has to pre-parse all of it)
# The entries use the import (a schema, a Command, pLimit(2), ...) so that
# tree-shaking cannot drop it.
#
# @bufbuild/protobuf is not a dependency: it is installed into the scratch
# directory with npm, never into the repository.
#
# Usage: bench/startup/imports.sh     (NODE=/path/to/node, RUNS=, WARMUP=, ROUNDS=, OUT=, SCRATCH=)
# ROUNDS>1 repeats every case's run (cases interleaved) and pools the times,
# as in run.sh. The summary gives wall-clock medians and user+sys CPU means,
# each minus the floor of the same run; on a loaded machine the CPU column is
# the steadier one.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/bench/startup"
runs=${RUNS:-30}
rounds=${ROUNDS:-1}
warmup=${WARMUP:-3}
node=$(command -v "${NODE:-node}")
node_version=$("$node" --version)
out=${OUT:-$here/results}/imports-node${node_version#v}
scratch=${SCRATCH:-/tmp/seedwrap-bench-imports}
mkdir -p "$out" "$scratch"
# See run.sh: Node 20 reads NODE_EXTRA_CA_CERTS at start-up; Bazel actions do not get it.
unset NODE_EXTRA_CA_CERTS NODE_OPTIONS

if [[ ! -f $scratch/node_modules/@bufbuild/protobuf/package.json ]]; then
  (cd "$scratch" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @bufbuild/protobuf@2)
fi
# The repository's packages, seen from the scratch directory. Node resolves
# symlinks to their real path, so their own dependencies come from the repository.
for pkg in commander fast-glob graceful-fs p-limit execa zod; do
  ln -sfn "$root/node_modules/$pkg" "$scratch/node_modules/$pkg"
done

entries="$scratch/entries"
bundles="$scratch/bundles"
unused="$scratch/unused"
rm -rf "$entries" "$bundles" "$unused"
mkdir -p "$entries" "$bundles" "$unused"
: >"$entries/floor.cjs"
: >"$entries/floor.mjs"

# name | extension of the unbundled entry | unbundled entry | bundle entry.
# The bundle entries are ES modules, as seedwrap's TypeScript is: esbuild can
# tree-shake them (a CommonJS require of zod pulls in all of it, locales too).
cases=(
  "child_process|cjs|const { spawn } = require('node:child_process'); globalThis.x = spawn;|import { spawn } from 'node:child_process'; globalThis.x = spawn;"
  "commander|cjs|const { Command } = require('commander'); globalThis.x = new Command('seed').option('--min-mb <n>');|import { Command } from 'commander'; globalThis.x = new Command('seed').option('--min-mb <n>');"
  "fast-glob|cjs|globalThis.x = require('fast-glob').sync;|import fg from 'fast-glob'; globalThis.x = fg.sync;"
  "graceful-fs|cjs|globalThis.x = require('graceful-fs').linkSync;|import gfs from 'graceful-fs'; globalThis.x = gfs.linkSync;"
  "p-limit|mjs|import pLimit from 'p-limit'; globalThis.x = pLimit(2);|import pLimit from 'p-limit'; globalThis.x = pLimit(2);"
  "execa|mjs|import { execa } from 'execa'; globalThis.x = execa;|import { execa } from 'execa'; globalThis.x = execa;"
  "zod|cjs|const { z } = require('zod'); globalThis.x = z.object({ arguments: z.array(z.string()), requestId: z.number().int().optional() }).parse({ arguments: ['a'] });|import { z } from 'zod'; globalThis.x = z.object({ arguments: z.array(z.string()), requestId: z.number().int().optional() }).parse({ arguments: ['a'] });"
  "zod-mini|cjs|const z = require('zod/mini'); globalThis.x = z.object({ arguments: z.array(z.string()), requestId: z.optional(z.number()) }).parse({ arguments: ['a'] });|import * as z from 'zod/mini'; globalThis.x = z.object({ arguments: z.array(z.string()), requestId: z.optional(z.number()) }).parse({ arguments: ['a'] });"
  "bufbuild-protobuf|mjs|import { create, fromBinary, toBinary } from '@bufbuild/protobuf'; import { BinaryReader } from '@bufbuild/protobuf/wire'; globalThis.x = [create, fromBinary, toBinary, new BinaryReader(new Uint8Array([8, 1])).uint32()];|import { create, fromBinary, toBinary } from '@bufbuild/protobuf'; import { BinaryReader } from '@bufbuild/protobuf/wire'; globalThis.x = [create, fromBinary, toBinary, new BinaryReader(new Uint8Array([8, 1])).uint32()];"
)

for c in "${cases[@]}"; do
  IFS='|' read -r name ext src bundle_src <<<"$c"
  echo "$src" >"$entries/$name.$ext"
  echo "$bundle_src" >"$entries/$name.bundle.mjs"
  "$root/node_modules/.bin/esbuild" "$entries/$name.bundle.mjs" --bundle --platform=node --format=cjs \
    --target=node20.12 --minify --legal-comments=none --log-level=warning \
    --outfile="$bundles/$name.cjs"
  { echo 'function neverCalled() {'; cat "$bundles/$name.cjs"; echo '}'; } >"$unused/$name.cjs"
done

echo "node $node_version ($node); $(nproc) CPUs"
rm -f "$out"/*.json
for r in $(seq "$rounds"); do
  for c in "${cases[@]}"; do
    IFS='|' read -r name ext _ _ <<<"$c"
    "$node" "$entries/$name.$ext" && "$node" "$bundles/$name.cjs" && "$node" "$unused/$name.cjs"
    hyperfine -N --style basic --warmup "$warmup" --runs "$runs" --export-json "$out/$name.round$r.json" \
      -n floor-cjs "$node $entries/floor.cjs" \
      -n floor-mjs "$node $entries/floor.mjs" \
      -n unbundled "$node $entries/$name.$ext" \
      -n bundled "$node $bundles/$name.cjs" \
      -n bundled-unused "$node $unused/$name.cjs" >/dev/null
    printf '%s bundle %s bytes\n' "$name" "$(wc -c <"$bundles/$name.cjs")" >"$out/$name.size"
    echo "round $r: measured $name"
  done
done

node "$here/summarize-imports.mjs" "$out" "${cases[@]%%|*}"
