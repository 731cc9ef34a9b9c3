#!/usr/bin/env python3
"""Question 6: CPU of serde's and model's compile after the unicode-ident edit (set B: proc-macro2, quote,
syn, serde_derive rebuilt; model also sees serde rebuilt against the new serde_derive), rules_rust-like
command, no flag vs -Cincremental holding the full compile's session of the crate against set A.
Usage: q6_measure.py ROUNDS CRATE... -> JSON lines (run q6_chain.py first)"""
import json, os, shutil, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr, q6_chain as q

Q6, WS = q.Q6, q.WS
INC = f'{Q6}/inc'
ONLY = os.environ.get('Q6_ONLY')  # comma-separated variant names
VARIANTS = [  # name, set installed into deps/cur, state, kill, deps dir the command names
    ('kill/noflag/B', 'B', None, True, 'deps/cur'),
    ('kill/inc-empty/B', 'B', 'empty', True, 'deps/cur'),
    ('kill/warm/B', 'B', 'warm', True, 'deps/cur'),
    ('kill/warm/A-recopied', 'A', 'warm', True, 'deps/cur'),
    ('kill/warm/A-otherpath', 'A', 'warm', True, f'{Q6}/sets/A'),
    ('kill/warm/P-derive-srcpath', 'P', 'warm', True, 'deps/cur'),
    ('kill/warm/E-derive-bodyedit', 'E', 'warm', True, 'deps/cur'),
    ('kill/warm/T-derive-libtop', 'T', 'warm', True, 'deps/cur'),
    ('kill/warm/N-derive-libend', 'N', 'warm', True, 'deps/cur'),
    ('full/noflag/B', 'B', None, False, 'deps/cur'),
    ('full/warm/B', 'B', 'warm', False, 'deps/cur'),
]

def snapshot(c):
    q.install(f'{Q6}/sets/A')
    shutil.rmtree(INC, ignore_errors=True)
    os.makedirs(f'{WS}/out/{c}', exist_ok=True)
    r = rr.run(q.argv(c, f'out/{c}', inc=INC), cwd=WS)
    assert r['rc'] == 0, r['stderr'][-3000:]
    snap = f'{Q6}/snap-{c}'
    shutil.rmtree(snap, ignore_errors=True); shutil.copytree(INC, snap)
    return snap

if __name__ == '__main__':
    rounds = int(sys.argv[1]); crates = sys.argv[2:]
    snaps = {c: snapshot(c) for c in crates}
    if ONLY:
        VARIANTS[:] = [v for v in VARIANTS if v[0] in ONLY.split(',')]
    for i in range(rounds):
        for c in crates:
            k = i % len(VARIANTS); order = VARIANTS[k:] + VARIANTS[:k]
            for name, s, state, kill, deps in (order[::-1] if i % 2 else order):
                q.install(f'{Q6}/sets/{s}')
                shutil.rmtree(INC, ignore_errors=True)
                shutil.rmtree(f'{WS}/out/{c}', ignore_errors=True); os.makedirs(f'{WS}/out/{c}')
                inc = None
                if state == 'warm':
                    shutil.copytree(snaps[c], INC); inc = INC
                elif state == 'empty':
                    os.makedirs(INC); inc = INC
                r = rr.run(q.argv(c, f'out/{c}', inc=inc, deps=deps), kill_on_rmeta=kill, cwd=WS)
                ok = r['rmeta'] is not None and (kill or r['rc'] == 0)
                print(json.dumps(dict(crate=c, variant=name, round=i, wall=r['wall'], rmeta=r['rmeta'], cpu_rmeta=r['cpu_rmeta'],
                                      cpu=r['cpu'], rc=r['rc'], ok=ok, load=os.getloadavg()[0], t=time.strftime('%H:%M:%S'),
                                      err=None if ok else r['stderr'][-800:])), flush=True)
