#!/usr/bin/env bash
# Per-action start-up of seedwrap, side by side in one hyperfine run:
#   empty-node     node running an empty CommonJS script: the floor for any one-shot Node tool
#   node-spawn     node running a 4-line CommonJS script that spawns /bin/true with
#                  seedwrap's stdio (stderr piped and forwarded) and waits: the floor for
#                  any Node wrapper; seedwrap minus this row is what the bundle itself costs
#   seedwrap       node dist/seedwrap.cjs -- /bin/true
#   seedwrap-bin   dist/seedwrap.cjs -- /bin/true, through its own `#!` line (the launch
#                  form that ships), as Bazel runs it
#   spawn-bin      the bare spawn script behind the bundle's own `#!` line: the floor
#                  for seedwrap-bin (the same launcher runs node in both)
#   native         bench/native-wrapper -- /bin/true: the hot path of a native wrapper
#   empty-node+extra-ca  only if NODE_EXTRA_CA_CERTS is set in the caller's env: the empty
#                  script with it kept (Node 20 reads that file at start-up; 22 and 24 do not)
# then the max RSS of each (GNU time, 10 runs) and the ratios of the medians.
#
# The other rows run with NODE_EXTRA_CA_CERTS and NODE_OPTIONS removed: a Bazel
# action gets neither unless --action_env passes it, and the CA file alone
# costs more than everything being measured.
#
# Usage: bench/startup/run.sh            (uses `node` from PATH)
#        NODE=/path/to/node bench/startup/run.sh
#        RUNS=60 WARMUP=10 OUT=/tmp/x BUNDLE=/other/seedwrap.cjs bench/startup/run.sh
#        ROUNDS=5 RUNS=12 bench/startup/run.sh
# ROUNDS>1 repeats the whole side-by-side hyperfine run and pools the times:
# on a shared machine, load that comes and goes then hits every row alike
# instead of whichever row was running at the time. Each round's ratios are
# printed too, so their spread is visible.
# Needs: hyperfine, GNU time (/usr/bin/time), cargo (for the native wrapper),
# and dist/seedwrap.cjs (`npm run build`).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/bench/startup"
runs=${RUNS:-40}
rounds=${ROUNDS:-1}
warmup=${WARMUP:-5}
node=$(command -v "${NODE:-node}") || { echo "run.sh: no node at ${NODE:-node}" >&2; exit 1; }
node_version=$("$node" --version)
out=${OUT:-$here/results}
mkdir -p "$out"
stem="$out/startup-node${node_version#v}"
rss="$stem.rss.tsv"

bundle=${BUNDLE:-$root/dist/seedwrap.cjs}
if [[ ! -x $bundle ]]; then
  echo "run.sh: $bundle is missing or not executable; run \`npm run build\` first" >&2
  exit 1
fi
native=$("$root/bench/native-wrapper/build.sh")

# The shebang resolves `node` through PATH: put the chosen node first so that
# seedwrap-bin runs the same binary as the other rows.
export PATH="$(dirname "$node"):$PATH"
if [[ $(command -v node) != "$node" ]]; then
  echo "run.sh: PATH lookup of node gives $(command -v node), not $node" >&2
  exit 1
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
: >"$scratch/empty.cjs"
cat >"$scratch/spawn.cjs" <<'JS'
const { spawn } = require('node:child_process');
const child = spawn(process.argv[2], process.argv.slice(3), { stdio: ['inherit', 'inherit', 'pipe'] });
child.stderr.on('data', (b) => process.stderr.write(b));
child.on('close', (code) => { process.exitCode = code ?? 1; });
JS
# The launcher: the `#!` line, and the /bin/sh line after it where there is one
# (`":" //; exec node -- "$0" "$@"`, the form that ships).
launcher_lines=1
sed -n 2p "$bundle" | grep -q '^":"' && launcher_lines=2
{ head -n"$launcher_lines" "$bundle"; cat "$scratch/spawn.cjs"; } >"$scratch/spawn-bin.cjs"
chmod +x "$scratch/spawn-bin.cjs"

extra_ca=${NODE_EXTRA_CA_CERTS:-}
unset NODE_EXTRA_CA_CERTS NODE_OPTIONS

names=(empty-node node-spawn seedwrap seedwrap-bin spawn-bin native)
cmds=(
  "$node $scratch/empty.cjs"
  "$node $scratch/spawn.cjs /bin/true"
  "$node $bundle -- /bin/true"
  "$bundle -- /bin/true"
  "$scratch/spawn-bin.cjs /bin/true"
  "$native -- /bin/true"
)
if [[ -n $extra_ca ]]; then
  names+=(empty-node+extra-ca)
  cmds+=("env NODE_EXTRA_CA_CERTS=$extra_ca $node $scratch/empty.cjs")
fi

# Every command must succeed before it is timed.
for c in "${cmds[@]}"; do $c >/dev/null || { echo "run.sh: failed: $c" >&2; exit 1; }; done

echo "node $node_version ($node); $(nproc) CPUs; $(uname -r)"
echo "bundle $bundle: $(wc -c <"$bundle") bytes, sha256 $(sha256sum "$bundle" | cut -c1-16), launched by $(head -n1 "$bundle")"
echo "$(date -u +%FT%TZ); load $(cat /proc/loadavg)"
jsons=()
for r in $(seq "$rounds"); do
  jsons+=("$stem.round$r.json")
  args=(-N --warmup "$warmup" --runs "$runs" --export-json "$stem.round$r.json")
  for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
  hyperfine "${args[@]}"
done

# Max RSS in KiB, 10 runs each (the median is reported).
printf 'name\tmaxrss_kib\n' >"$rss"
for i in "${!names[@]}"; do
  for _ in $(seq 10); do
    /usr/bin/time -f "${names[$i]}	%M" -a -o "$rss" ${cmds[$i]} >/dev/null
  done
done

node "$here/summarize.mjs" "$rss" "${jsons[@]}"
echo "$(date -u +%FT%TZ); load $(cat /proc/loadavg)"
