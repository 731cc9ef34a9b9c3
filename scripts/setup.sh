#!/usr/bin/env bash
# Installs what seedwrap's demo, tests and benchmarks need on a fresh machine
# of this kind (Debian, Node 20, rustup's rustc in ~/.cargo/bin), and does
# nothing when it is all there already. Runs before `npm test` and `npm run demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

# nginx: the end-to-end tests' Bazel HTTP cache (its core WebDAV module takes PUT).
# The librust-* sources: the tests' real crates, and the 38-crate scale bench (bench/scale/).
APT_PACKAGES=(bazel-bootstrap hyperfine librust-itoa-dev librust-memchr-dev librust-serde-json-dev librust-regex-dev librust-syn-dev nginx
  librust-serde-derive-dev librust-serde-dev librust-libc-dev librust-log-dev librust-once-cell-dev librust-lazy-static-dev
  librust-scopeguard-dev librust-smallvec-dev librust-either-dev librust-crossbeam-epoch-dev librust-memoffset-dev
  librust-indexmap-dev librust-hashbrown-dev)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

# npm ci only when node_modules was not installed from this exact lockfile.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.seedwrap-lock-sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --no-audit --no-fund >/dev/null
  echo "$lock_sum" > "$stamp"
fi

if ! command -v rustc >/dev/null && [ -x "$HOME/.cargo/bin/rustc" ]; then
  echo "setup: rustc is in ~/.cargo/bin but not on PATH; tests find it there" >&2
fi
