#!/usr/bin/env python3
"""Question 6: the scale bench's actions (bench/scale/rules/scale.bzl.in) name different output paths:
RustcMetadata --emit=metadata=<pkg>/_pipeline/libX.rmeta,link=<pkg>/_pipeline/libX.rlib, Rustc
--emit=metadata=<pkg>/libX.rmeta,link=<pkg>/libX.rlib. The metadata action compiles with the session the full
compile left. Does rustc load it? Same crate hash? serde and model after the unicode-ident edit (set B).
Usage: q6_emitpath.py ROUNDS CRATE... -> JSON lines; q6_emitpath.py --diag CRATE (RUSTC_BOOTSTRAP=1, -Zincremental-info)"""
import json, os, shutil, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr, q6_chain as q

Q6, WS = q.Q6, q.WS
INC = f'{Q6}/inc-e'

def emit(c, pipeline):
    d = f'out/{c}/_pipeline' if pipeline else f'out/{c}'
    return f'--emit=metadata={d}/lib{c}.rmeta,link={d}/lib{c}.rlib'

def argv(c, pipeline, inc, extra=()):
    a = q.argv(c, f'out/{c}', inc=inc, extra=extra)
    return [emit(c, pipeline) if x.startswith('--emit=') else x for x in a]

def fresh_out(c):
    shutil.rmtree(f'{WS}/out/{c}', ignore_errors=True); os.makedirs(f'{WS}/out/{c}/_pipeline')

def snapshot(c, env=None):
    q.install(f'{Q6}/sets/A'); fresh_out(c)
    shutil.rmtree(INC, ignore_errors=True)
    r = rr.run(argv(c, False, INC), cwd=WS, env=env)  # the full action, set A
    assert r['rc'] == 0, r['stderr'][-3000:]
    snap = f'{Q6}/snap-e-{c}'
    shutil.rmtree(snap, ignore_errors=True); shutil.copytree(INC, snap)
    return snap

VARIANTS = [  # name, --emit paths of the metadata action (True: _pipeline/), state
    ('kill/noflag/B/pipeline-paths', True, None),
    ('kill/warm/B/pipeline-paths', True, 'warm'),
    ('kill/warm/B/full-paths', False, 'warm'),
]

def one(c, snap, pipeline, state, env=None, extra=(), kill=True):
    q.install(f'{Q6}/sets/B'); fresh_out(c)
    shutil.rmtree(INC, ignore_errors=True)
    inc = None
    if state == 'warm':
        shutil.copytree(snap, INC); inc = INC
    return rr.run(argv(c, pipeline, inc, extra), kill_on_rmeta=kill, cwd=WS, env=env)

if __name__ == '__main__':
    if sys.argv[1] == '--diag':
        c = sys.argv[2]
        env = dict(os.environ, RUSTC_BOOTSTRAP='1')
        snap = snapshot(c, env)
        for name, pipeline, state in VARIANTS[1:]:
            r = one(c, snap, pipeline, state, env, ['-Zincremental-info'], kill=False)
            print(name, f'cpu {r["cpu"]:.0f} ms', [l for l in r['stderr'].splitlines() if 'session directory' in l or 'ignoring' in l or 'commandline' in l])
        # crate hash of the rmeta each action writes (no RUSTC_BOOTSTRAP on the compiles; the reader only)
        for pipeline in (True, False):
            r = one(c, None, pipeline, None, None, kill=False)
            p = f'{WS}/out/{c}/{"_pipeline/" if pipeline else ""}lib{c}.rmeta'
            print('no flag', 'pipeline' if pipeline else 'full', 'paths: svh', q.svh(p))
        for pipeline in (True, False):
            r = one(c, snapshot(c), pipeline, 'warm', None, kill=False)
            p = f'{WS}/out/{c}/{"_pipeline/" if pipeline else ""}lib{c}.rmeta'
            print('-Cincremental', 'pipeline' if pipeline else 'full', 'paths: svh', q.svh(p))
        sys.exit(0)
    rounds = int(sys.argv[1]); crates = sys.argv[2:]
    snaps = {c: snapshot(c) for c in crates}
    for i in range(rounds):
        for c in crates:
            k = i % len(VARIANTS); order = VARIANTS[k:] + VARIANTS[:k]
            for name, pipeline, state in (order[::-1] if i % 2 else order):
                r = one(c, snaps[c], pipeline, state)
                ok = r['rmeta'] is not None
                print(json.dumps(dict(crate=c, variant=name, round=i, wall=r['wall'], rmeta=r['rmeta'], cpu_rmeta=r['cpu_rmeta'],
                                      cpu=r['cpu'], ok=ok, load=os.getloadavg()[0], t=time.strftime('%H:%M:%S'),
                                      err=None if ok else r['stderr'][-800:])), flush=True)
