#!/usr/bin/env bash
# Builds real incremental trees for the seeding benchmark: itoa, serde_json,
# regex and syn (with their dependencies as rlibs) from Debian's crate sources
# in /usr/share/cargo/registry, by calling rustc directly (no cargo, no network).
# Each bench crate is built twice with -Cincremental (the second time after a
# one-line edit), so its incremental dir holds two sessions, as in real use.
#
#   bench/seed/build-crates.sh WORK      (default WORK=/tmp/seedwrap-bench)
# Output: WORK/src/<crate> (a writable copy), WORK/deps (rlibs),
#         WORK/incr/<crate> (incremental dir), WORK/cmd/<crate> (the rustc argv).
set -euo pipefail
REG=/usr/share/cargo/registry
WORK=${1:-/tmp/seedwrap-bench}
RUSTC=${RUSTC:-$(command -v rustc || echo "$HOME/.cargo/bin/rustc")}
mkdir -p "$WORK"/{src,deps,incr,cmd,out,bs}
for c in itoa-1.0.1 serde_json-1.0.87 regex-1.7.1 syn-1.0.107; do
  [ -d "$REG/$c" ] || { echo "missing $REG/$c: apt-get install -y librust-itoa-dev librust-serde-json-dev librust-regex-dev librust-syn-dev" >&2; exit 1; }
done

# build-script cfgs: compile and run build.rs the way cargo would, keep cargo:rustc-cfg lines
bs_cfgs() { # dir name features...
  local dir=$1 name=$2; shift 2
  [ -f "$dir/build.rs" ] || return 0
  local exe="$WORK/bs/$name"
  "$RUSTC" --edition 2018 --crate-name "build_$name" -o "$exe" "$dir/build.rs" 2>/dev/null
  local env=(RUSTC="$RUSTC" OUT_DIR="$WORK/bs/$name-out" TARGET=x86_64-unknown-linux-gnu CARGO_CFG_TARGET_ARCH=x86_64 CARGO_CFG_TARGET_POINTER_WIDTH=64 CARGO_CFG_TARGET_OS=linux HOST=x86_64-unknown-linux-gnu CARGO_MANIFEST_DIR="$dir" CARGO_PKG_NAME="$name" PROFILE=debug OPT_LEVEL=0 DEBUG=true)
  for f in "$@"; do env+=("CARGO_FEATURE_$(echo "$f" | tr a-z- A-Z_)=1"); done
  mkdir -p "$WORK/bs/$name-out"
  (cd "$dir" && env "${env[@]}" "$exe") | sed -n 's/^cargo:rustc-cfg=\(.*\)$/--cfg\n\1/p'
}

# dep NAME DIR CRATE_TYPE EDITION "features" extra-rustc-args...
dep() {
  local name=$1 dir=$REG/$2 type=$3 ed=$4 feats=$5; shift 5
  local args=(--crate-name "$name" --edition "$ed" --crate-type "$type" "$dir/src/lib.rs" -L "$WORK/deps" --out-dir "$WORK/deps" --cap-lints allow -Cdebuginfo=0)
  for f in $feats; do args+=(--cfg "feature=\"$f\""); done
  mapfile -t cfgs < <(bs_cfgs "$dir" "$name" $feats)
  "$RUSTC" "${args[@]}" "${cfgs[@]}" "$@"
}
dep itoa itoa-1.0.1 rlib 2018 ""
dep ryu ryu-1.0.2 rlib 2015 ""
dep serde serde-1.0.152 rlib 2015 "std"
dep memchr memchr-2.5.0 rlib 2018 "std"
dep aho_corasick aho-corasick-0.7.19 rlib 2018 "std" --extern memchr="$WORK/deps/libmemchr.rlib"
dep regex_syntax regex-syntax-0.6.27 rlib 2018 "std unicode unicode-age unicode-bool unicode-case unicode-gencat unicode-perl unicode-script unicode-segment"
dep unicode_ident unicode-ident-1.0.0 rlib 2018 ""
# its build.rs cannot parse a modern `rustc --version` and emits nothing; these are what it means to emit
dep proc_macro2 proc-macro2-1.0.47 rlib 2018 "proc-macro" --cfg use_proc_macro --cfg wrap_proc_macro --extern unicode_ident="$WORK/deps/libunicode_ident.rlib"
dep quote quote-1.0.21 rlib 2018 "proc-macro" --extern proc_macro2="$WORK/deps/libproc_macro2.rlib"

# bench crate: NAME DIR "features" externs...
bench_crate() {
  local name=$1 dir=$2 feats=$3; shift 3
  rm -rf "$WORK/src/$name" "$WORK/incr/$name" "$WORK/out/$name"
  cp -r "$REG/$dir" "$WORK/src/$name"; chmod -R u+w "$WORK/src/$name"
  # debug profile as cargo builds it (debuginfo on): the incremental tree a developer really has
  local args=(--crate-name "$name" --edition 2018 --crate-type lib "$WORK/src/$name/src/lib.rs" -L "$WORK/deps" --cap-lints allow -Cdebuginfo=2 --emit=link,metadata)
  for f in $feats; do args+=(--cfg "feature=\"$f\""); done
  mapfile -t cfgs < <(bs_cfgs "$WORK/src/$name" "$name" $feats)
  args+=("${cfgs[@]}" "$@")
  printf '%s\n' "${args[@]}" > "$WORK/cmd/$name"
  (cd "$WORK" && "$RUSTC" "${args[@]}" --out-dir "$WORK/out/$name" -Cincremental="$WORK/incr/$name")
  echo "// bench edit" >> "$WORK/src/$name/src/lib.rs"
  (cd "$WORK" && "$RUSTC" "${args[@]}" --out-dir "$WORK/out/$name" -Cincremental="$WORK/incr/$name")
}
bench_crate itoa itoa-1.0.1 ""
bench_crate serde_json serde_json-1.0.87 "std" --extern serde="$WORK/deps/libserde.rlib" --extern itoa="$WORK/deps/libitoa.rlib" --extern ryu="$WORK/deps/libryu.rlib"
bench_crate regex regex-1.7.1 "std perf perf-cache perf-dfa perf-inline perf-literal unicode unicode-age unicode-bool unicode-case unicode-gencat unicode-perl unicode-script unicode-segment aho-corasick memchr" \
  --extern regex_syntax="$WORK/deps/libregex_syntax.rlib" --extern aho_corasick="$WORK/deps/libaho_corasick.rlib" --extern memchr="$WORK/deps/libmemchr.rlib"
bench_crate syn syn-1.0.107 "default derive parsing printing clone-impls proc-macro full" \
  --extern proc_macro2="$WORK/deps/libproc_macro2.rlib" --extern quote="$WORK/deps/libquote.rlib" --extern unicode_ident="$WORK/deps/libunicode_ident.rlib"
for c in itoa serde_json regex syn; do
  echo "$c: $(find "$WORK/incr/$c" -type f | wc -l) files, $(du -sh --apparent-size "$WORK/incr/$c" | cut -f1)"
done
