#!/usr/bin/env python3
"""Question 6, diagnosis: which queries rustc re-executes. RUSTC_BOOTSTRAP=1 on every compile (it changes the
crate hash, so the session is made with it too): CRATE's full compile against set A into a session, then for each
SET a full compile (not killed: a killed rustc never writes its self-profile) from a copy of that session with
-Zincremental-info -Zself-profile, summarized by q6_pcount (analyzeme: events per kind and label: "Query" = a
query provider that ran, IncrementalLoadResult = a result loaded from the cache, ...).
Usage: q6_profile.py CRATE SET[,SET...] [PCOUNT] -> results/q6_profile/<crate>-<set>.tsv + a summary on stdout.
PCOUNT: CARGO_TARGET_DIR=/tmp/pm-tools/pcount/target cargo build --release --manifest-path
bench/pipelining/q6_pcount/Cargo.toml (crate analyzeme 12 from crates.io)."""
import os, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr, q6_chain as q

W, Q6 = q.WS, q.Q6
c, sets = sys.argv[1], sys.argv[2].split(',')
pcount = sys.argv[3] if len(sys.argv) > 3 else '/tmp/pm-tools/pcount/target/release/pcount'
res = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results', 'q6_profile')
os.makedirs(res, exist_ok=True)
os.makedirs(f'{W}/out/{c}', exist_ok=True)
env = dict(os.environ, RUSTC_BOOTSTRAP='1')
inc = f'{Q6}/dinc'
q.install(f'{Q6}/sets/A')
shutil.rmtree(inc, ignore_errors=True)
r = rr.run(q.argv(c, f'out/{c}', inc=inc), env=env, cwd=W)
assert r['rc'] == 0, r['stderr'][-2000:]
snap = f'{Q6}/dsnap-{c}'
shutil.rmtree(snap, ignore_errors=True); shutil.copytree(inc, snap)
for s in sets:
    q.install(f'{Q6}/sets/{s}')
    shutil.rmtree(inc); shutil.copytree(snap, inc)
    pd = f'{Q6}/prof/{c}-{s}'
    shutil.rmtree(pd, ignore_errors=True); os.makedirs(pd)
    r = rr.run(q.argv(c, f'out/{c}', inc=inc, extra=['-Zincremental-info', f'-Zself-profile={pd}']), env=env, cwd=W)
    assert r['rc'] == 0, r['stderr'][-2000:]
    prof = [f for f in os.listdir(pd) if f.endswith('.mm_profdata')][0]
    tsv = subprocess.run([pcount, f'{pd}/{prof}'], capture_output=True, text=True, check=True).stdout
    open(f'{res}/{c}-{s}.tsv', 'w').write('kind\tlabel\tcount\tus\n' + tsv)
    rows = [l.split('\t') for l in tsv.splitlines()]
    ran = {l: int(n) for k, l, n, _ in rows if k == 'Query'}
    loaded = sum(int(n) for k, l, n, _ in rows if k == 'IncrementalLoadResult')
    meta = [int(us) for k, l, n, us in rows if k == 'GenericActivity' and l == 'generate_crate_metadata']
    info = [l for l in r['stderr'].splitlines() if '[incremental]' in l and ('session' in l or 'ignoring' in l)]
    print(f'{c} set {s}: cpu {r["cpu"]:.0f} ms; query providers run {sum(ran.values())}; typeck {ran.get("typeck", 0)}, '
          f'mir_borrowck {ran.get("mir_borrowck", 0)}, optimized_mir {ran.get("optimized_mir", 0)}; results loaded {loaded}; '
          f'generate_crate_metadata {meta[0] / 1000 if meta else 0:.0f} ms wall; {info}')
