#!/usr/bin/env python3
"""Questions 1-2: metadata-only compiles (killed at the rmeta, and --emit=metadata) and the
time to the rmeta inside a full compile, per crate and incremental state.
Variants run in rotating order within each round (A B C ... / B C ... A / ...).
Usage: q12.py ROUNDS crate... ; writes JSON lines to stdout."""
import json, os, shutil, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr

INC = '/tmp/pl/run/inc'
SNAP = '/tmp/pl/snap'

def restore(snap):
    shutil.rmtree(INC, ignore_errors=True)
    if snap:
        shutil.copytree(snap, INC, symlinks=True)  # a real copy: no shared inodes with the snapshot
    else:
        os.makedirs(INC)

def make_snaps(c):
    """full: the session a full compile of the original source leaves; meta: what a killed metadata compile leaves."""
    for kind in ('full', 'meta'):
        restore(None)
        rr.set_source(c, 'orig')
        cur = f'{rr.WS}/deps/cur'
        if os.path.lexists(cur):
            os.unlink(cur)
        os.symlink('plain', cur)
        r = rr.run(rr.argv(c, inc=INC, dep_flavor='cur'), kill_on_rmeta=(kind == 'meta'))
        assert (r['rc'] == 0) if kind == 'full' else (r['rmeta'] is not None), r['stderr'][-2000:]
        dst = f'{SNAP}/{c}/{kind}'
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(INC, dst, symlinks=True)
        listing = subprocess.run(['find', dst, '-maxdepth', '2'], capture_output=True, text=True).stdout
        print(json.dumps(dict(crate=c, snapshot=kind, listing=sorted(listing.split()))), flush=True)

# (name, mode, state, source)
VARIANTS = [
    ('kill/noflag', 'kill', None, 'body'),
    ('kill/inc-empty', 'kill', 'empty', 'body'),
    ('kill/warm-full/body', 'kill', 'full', 'body'),
    ('kill/warm-full/comment', 'kill', 'full', 'comment'),
    ('kill/warm-meta/body', 'kill', 'meta', 'body'),
    ('emitmeta/noflag', 'emitmeta', None, 'body'),
    ('emitmeta/inc-empty', 'emitmeta', 'empty', 'body'),
    ('emitmeta/warm-full/body', 'emitmeta', 'full', 'body'),
    ('full/noflag', 'full', None, 'body'),
    ('full/inc-empty', 'full', 'empty', 'body'),
    ('full/warm-full/body', 'full', 'full', 'body'),
    ('full/warm-full/comment', 'full', 'full', 'comment'),
    ('full/noflag/comment', 'full', None, 'comment'),
    # a dependency's body edit (serde for serde_json, regex_syntax for regex): own source unchanged
    ('kill/noflag/depedit', 'kill', None, 'orig'),
    ('kill/warm-full/depedit', 'kill', 'full', 'orig'),
    ('full/noflag/depedit', 'full', None, 'orig'),
    ('full/warm-full/depedit', 'full', 'full', 'orig'),
]
HAS_EDITED_DEP = {'serde_json', 'regex'}

def variants(c):
    return [v for v in VARIANTS if 'depedit' not in v[0] or c in HAS_EDITED_DEP]

def build_edited_deps():
    """deps/edited: deps/plain with serde and regex_syntax rebuilt after their body edit."""
    d = f'{rr.WS}/deps/edited'
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(f'{rr.WS}/deps/plain', d)
    for c in ('serde', 'regex_syntax'):
        rr.set_source(c, 'body')
        r = rr.run(rr.argv(c, dep_flavor='edited', out='deps/edited'))
        assert r['rc'] == 0, r['stderr'][-2000:]
        rr.set_source(c, 'orig')

def one(c, v):
    name, mode, state, source = v
    cur = f'{rr.WS}/deps/cur'
    if os.path.lexists(cur):
        os.unlink(cur)
    os.symlink('edited' if 'depedit' in name else 'plain', cur)
    dep = 'cur'
    rr.set_source(c, source)
    if state is None:
        shutil.rmtree(INC, ignore_errors=True)
        inc = None
    else:
        restore(None if state == 'empty' else f'{SNAP}/{c}/{state}')
        inc = INC
    emit = 'dep-info,metadata' if mode == 'emitmeta' else 'dep-info,link,metadata'
    shutil.rmtree(f'{rr.WS}/out/{c}')  # a killed rustc leaves its rmetaXXXXXX temp dir there
    os.makedirs(f'{rr.WS}/out/{c}')
    subprocess.run(['sync'])
    r = rr.run(rr.argv(c, inc=inc, emit=emit, dep_flavor=dep), kill_on_rmeta=(mode == 'kill'))
    ok = r['rmeta'] is not None and (mode == 'kill' or r['rc'] == 0)
    if not ok:
        print(r['stderr'][-2000:], file=sys.stderr)
    return dict(crate=c, variant=name, wall=round(r['wall'], 1), rmeta=r['rmeta'] and round(r['rmeta'], 1), cpu_rmeta=r['cpu_rmeta'],
                cpu=round(r['cpu'], 1), rc=r['rc'], ok=ok, load=os.getloadavg()[0], t=time.strftime('%H:%M:%S'))

if __name__ == '__main__':
    rounds = int(sys.argv[1])
    crates = sys.argv[2:]
    build_edited_deps()
    for c in crates:
        os.makedirs(f'{rr.WS}/out/{c}', exist_ok=True)
        make_snaps(c)
    for i in range(rounds):
        for c in crates:
            vs = variants(c)
            k = i % len(vs)
            order = vs[k:] + vs[:k]
            if i % 2:
                order = order[::-1]
            for v in order:
                print(json.dumps(one(c, v)), flush=True)
    for c in crates:
        rr.set_source(c, 'orig')
