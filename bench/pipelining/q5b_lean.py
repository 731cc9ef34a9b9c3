#!/usr/bin/env python3
"""Question 5b: can a metadata action keep a lean session of its own?
A metadata action killed at the rmeta never finalizes its session (q12: warm-meta = cold). The only way
to a finished session without codegen is to let rustc run to the end without codegen: -Zno-codegen,
which needs RUSTC_BOOTSTRAP=1 -- and RUSTC_BOOTSTRAP=1 changes the crate hash (q4), so here EVERY
compile (snapshots, full, metadata) runs with RUSTC_BOOTSTRAP=1 to keep the hashes comparable.
Variants (after the one-line body edit unless noted):
  kill/noflag            metadata action, no -Cincremental, killed at the rmeta (reference)
  kill/shared-warm       today's store: killed at the rmeta, -Cincremental = the full action's session
  lean/own-warm          -Zno-codegen, runs to its end, -Cincremental = its own lean session (separate dir)
  lean/own-cold          the same from an empty dir (first build)
  full/warm              the full action warm from its own session (reference)
  full/lean-newer        the full action when the lean session sits NEWER in the same directory (b done wrong)
Usage: q5b_lean.py ROUNDS crate... -> JSON lines"""
import json, os, shutil, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr

ENV = dict(os.environ, RUSTC_BOOTSTRAP='1')
INC = '/tmp/pl/q5b/inc'
SNAP = '/tmp/pl/q5b/snap'
OUT = '/tmp/pl/q5b/out'

def setdeps(flavor):
    cur = f'{rr.WS}/deps/cur'
    if os.path.lexists(cur):
        os.unlink(cur)
    os.symlink(flavor, cur)

def fresh_out():
    shutil.rmtree(OUT, ignore_errors=True); os.makedirs(OUT)

def compile_(c, inc, lean=False, kill=False, extra=()):
    fresh_out()
    a = rr.argv(c, inc=inc, out=OUT, dep_flavor='cur', extra=(['-Zno-codegen'] if lean else []) + list(extra))
    return rr.run(a, kill_on_rmeta=kill, env=ENV)

def listing(d):
    return subprocess.run(f'cd {d} && find . -maxdepth 2 | sort && du -sh .', shell=True, capture_output=True, text=True).stdout.split('\n')

def make_snaps(c):
    rr.set_source(c, 'orig'); setdeps('plain')
    for kind, lean in (('full', False), ('lean', True)):
        shutil.rmtree(INC, ignore_errors=True)
        r = compile_(c, INC, lean=lean)
        assert r['rc'] == 0, r['stderr'][-2000:]
        shutil.rmtree(f'{SNAP}/{c}/{kind}', ignore_errors=True)
        shutil.copytree(INC, f'{SNAP}/{c}/{kind}')
        print(json.dumps(dict(crate=c, snapshot=kind, listing=listing(f'{SNAP}/{c}/{kind}'))), flush=True)
    # full + lean in one directory, the lean session newer (hard links to both snapshots)
    both = f'{SNAP}/{c}/both'
    shutil.rmtree(both, ignore_errors=True)
    subprocess.run(f'cp -a {SNAP}/{c}/full {both} && cp -a {SNAP}/{c}/lean/. {both}/', shell=True, check=True)
    print(json.dumps(dict(crate=c, snapshot='both', listing=listing(both))), flush=True)

VARIANTS = [  # name, snapshot (None: no flag, 'empty'), lean, kill
    ('kill/noflag', None, False, True),
    ('kill/shared-warm', 'full', False, True),
    ('lean/own-warm', 'lean', True, False),
    ('lean/own-cold', 'empty', True, False),
    ('full/warm', 'full', False, False),
    ('full/lean-newer', 'both', False, False),
]

def one(c, v):
    name, snap, lean, kill = v
    rr.set_source(c, 'body'); setdeps('plain')
    shutil.rmtree(INC, ignore_errors=True)
    inc = None
    if snap == 'empty':
        os.makedirs(INC); inc = INC
    elif snap:
        shutil.copytree(f'{SNAP}/{c}/{snap}', INC); inc = INC
    subprocess.run(['sync'])
    r = compile_(c, inc, lean=lean, kill=kill, extra=['-Zincremental-info'])
    info = [l.strip() for l in r['stderr'].splitlines() if l.startswith('[incremental] session directory') or 'ignoring' in l]
    return dict(crate=c, variant=name, rmeta=r['rmeta'], wall=r['wall'], cpu=r['cpu'], rc=r['rc'],
                ok=r['rmeta'] is not None and (kill or r['rc'] == 0), info=info[:4],
                load=os.getloadavg()[0], t=time.strftime('%H:%M:%S'))

if __name__ == '__main__':
    rounds = int(sys.argv[1]); crates = sys.argv[2:]
    for c in crates:
        make_snaps(c)
    for i in range(rounds):
        for c in crates:
            k = i % len(VARIANTS); order = VARIANTS[k:] + VARIANTS[:k]
            for v in (order[::-1] if i % 2 else order):
                print(json.dumps(one(c, v)), flush=True)
    for c in crates:
        rr.set_source(c, 'orig')
