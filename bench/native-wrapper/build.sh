#!/bin/sh
# Builds the native baseline wrapper used by bench/startup/run.sh.
# std only, so it builds offline. Prints the path of the binary.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cargo=${CARGO:-cargo}
command -v "$cargo" >/dev/null 2>&1 || cargo="$HOME/.cargo/bin/cargo"
"$cargo" build --release --offline --quiet --manifest-path "$here/Cargo.toml"
echo "$here/target/release/native-wrapper"
