#!/usr/bin/env python3
"""Question 3: where the metadata-only compile (killed at the rmeta) spends its time, per rustc pass
(-Ztime-passes, RUSTC_BOOTSTRAP=1 on every compile incl. the snapshot's, since it changes the crate hash
and so the session's validity). Rotating order; per pass the MIN over rounds (the machine is shared
and loaded: min is the contention-robust statistic for wall-clock pass times), plus median CPU.
Usage: q3_passes.py ROUNDS crate...  -> JSON lines"""
import json, os, re, shutil, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr

ENV = dict(os.environ, RUSTC_BOOTSTRAP='1')
INC = '/tmp/pl/q3/inc'
SNAP = '/tmp/pl/q3/snap'
OUT = '/tmp/pl/q3/out'
ZF = ['-Ztime-passes', '-Zincremental-info']
LINE = re.compile(r'^time:\s+([\d.]+);.*\t(\S+)\s*$')

def setdeps(flavor):
    cur = f'{rr.WS}/deps/cur'
    if os.path.lexists(cur):
        os.unlink(cur)
    os.symlink(flavor, cur)

def fresh_out():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)

def make_snap(c):
    shutil.rmtree(INC, ignore_errors=True)
    rr.set_source(c, 'orig'); setdeps('plain'); fresh_out()
    r = rr.run(rr.argv(c, inc=INC, out=OUT, dep_flavor='cur'), env=ENV)
    assert r['rc'] == 0, r['stderr'][-2000:]
    shutil.rmtree(f'{SNAP}/{c}', ignore_errors=True)
    shutil.copytree(INC, f'{SNAP}/{c}')

VARIANTS = [  # name, inc state, source, deps, kill
    ('kill/noflag', None, 'body', 'plain', True),
    ('kill/inc-empty', 'empty', 'body', 'plain', True),
    ('kill/warm-full/body', 'full', 'body', 'plain', True),
    ('kill/warm-full/comment', 'full', 'comment', 'plain', True),
    ('kill/noflag/depedit', None, 'orig', 'edited', True),
    ('kill/warm-full/depedit', 'full', 'orig', 'edited', True),
    ('full/noflag', None, 'body', 'plain', False),
    ('full/inc-empty', 'empty', 'body', 'plain', False),
    ('full/warm-full/body', 'full', 'body', 'plain', False),
]

def one(c, v):
    name, state, source, deps, kill = v
    rr.set_source(c, source); setdeps(deps); fresh_out()
    shutil.rmtree(INC, ignore_errors=True)
    inc = None
    if state == 'empty':
        os.makedirs(INC); inc = INC
    elif state == 'full':
        shutil.copytree(f'{SNAP}/{c}', INC); inc = INC
    r = rr.run(rr.argv(c, inc=inc, out=OUT, dep_flavor='cur', extra=ZF), kill_on_rmeta=kill, env=ENV)
    passes = {}
    info = []
    for l in r['stderr'].splitlines():
        m = LINE.match(l)
        if m:
            passes[m.group(2)] = passes.get(m.group(2), 0) + float(m.group(1)) * 1000
        elif l.startswith('[incremental]') and ('session directory' in l or 'previous' in l or 'ignoring' in l):
            info.append(l.strip())
        elif 'completely ignoring' in l or 'incremental' in l and not l.startswith('{'):
            info.append(l.strip()[:200])
    return dict(crate=c, variant=name, rmeta=r['rmeta'], wall=r['wall'], cpu=r['cpu'], rc=r['rc'],
                passes=passes, info=info[:6], load=os.getloadavg()[0], t=time.strftime('%H:%M:%S'))

if __name__ == '__main__':
    rounds = int(sys.argv[1]); crates = sys.argv[2:]
    for c in crates:
        make_snap(c)
    for i in range(rounds):
        for c in crates:
            vs = [v for v in VARIANTS if 'depedit' not in v[0] or c in ('serde_json', 'regex')]
            k = i % len(vs); order = vs[k:] + vs[:k]
            for v in (order[::-1] if i % 2 else order):
                print(json.dumps(one(c, v)), flush=True)
    for c in crates:
        rr.set_source(c, 'orig')
    setdeps('plain')
