#!/bin/sh
# stable_cwd.sh RUSTC [ARGS...]: run rustc from a working directory whose
# absolute path is the same on every build, even inside a Bazel sandbox.
#
# rustc hashes its working directory into an incremental session and discards
# a seed made under another one; a sandbox lives in
#   <output_base>/sandbox/<strategy>/<N>/execroot/<ws>
# and N changes on every action. Inside a sandbox this script enters a private
# mount namespace, hides <output_base>/sandbox behind an empty tmpfs, binds the
# sandbox's execroot at <output_base>/sandbox/stable/execroot/<ws> and runs
# rustc there. rustc sees exactly the sandbox's files (inputs stay symlinks into
# the real execroot, so nothing undeclared appears) and writes into the sandbox,
# where Bazel collects the outputs as usual. The mounts vanish with the process.
#
# It appends --remap-path-prefix=<cwd>= (what rules_rust passes as
# --remap-path-prefix=${pwd}=), with the stable path, so outputs carry no
# sandbox path either. Outside a sandbox, or where no mount namespace can be
# made, rustc runs in place (seeds then only help unsandboxed).
set -eu

if [ "${1:-}" = "--in-namespace" ]; then
  base=$2 stable=$3
  shift 3
  mount -t tmpfs seedwrap-stable-cwd "$base"
  mkdir -p "$stable"
  # --no-canonicalize: "." is the sandbox directory, now hidden under the
  # tmpfs; resolved by the kernel from our cwd it still names it.
  mount --no-canonicalize --bind . "$stable"
  cd "$stable"
  exec "$@" "--remap-path-prefix=$stable="
fi

cwd=$(pwd)
case "$cwd" in
  */sandbox/*/*/execroot/*) ;;
  *) exec "$@" "--remap-path-prefix=$cwd=" ;;
esac
output_base=${cwd%/sandbox/*/*/execroot/*}
base=$output_base/sandbox
stable=$base/stable/execroot/${cwd##*/}

# As root (or with CAP_SYS_ADMIN, as under linux-sandbox) a mount namespace is
# enough; other users need a user namespace that maps them to root.
for ns in "--mount" "--user --map-root-user --mount"; do
  # shellcheck disable=SC2086
  if unshare $ns --propagation private true 2>/dev/null; then
    # shellcheck disable=SC2086
    exec unshare $ns --propagation private "$0" --in-namespace "$base" "$stable" "$@"
  fi
done
# Say so as a rustc diagnostic: with --error-format=json the wrapper parses
# stderr and fails the action on any line that is not JSON.
note="no mount namespace here: rustc runs in the sandbox and cannot reuse its incremental seed"
case " $* " in
  *" --error-format=json "*)
    printf '{"$message_type":"diagnostic","message":"%s","code":null,"level":"warning","spans":[],"children":[],"rendered":"warning: %s\\n"}\n' "$note" "$note" >&2 ;;
  *) echo "warning: $note" >&2 ;;
esac
exec "$@" "--remap-path-prefix=$cwd="
