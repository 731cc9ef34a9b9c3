#!/usr/bin/env python3
"""Question 6: serde's metadata action through seedwrap itself (the bundle, as Bazel's linux-sandbox runs it,
in sandbox-shaped directories under a fake output base), after the unicode-ident edit (set B of q6_chain.py),
with the store (-Cincremental=${output_base}/rustc-incremental) holding the session of serde's full compile
against set A. --emit as the scale bench's rules name it: the full action metadata=out/serde/libserde.rmeta,
link=out/serde/libserde.rlib; the metadata action either the same or (as scale.bzl.in does) out/serde/_pipeline/. Compares with the same through plain rustc (q6_measure.py) and with seedwrap without the flag.
Usage: q6_seedwrap.py ROUNDS [BUNDLE] -> JSON lines. Needs q6_chain.py's sets."""
import json, os, shutil, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr, q6_chain as q

BUNDLE = sys.argv[2] if len(sys.argv) > 2 else '/tmp/pm-sw/dist/seedwrap.cjs'
OB = os.environ.get('PM_SW_OB', '/tmp/pm-sw/ob')
NODE = shutil.which('node')
DIAG = os.environ.get('Q6_DIAG') == '1'  # RUSTC_BOOTSTRAP=1 on every compile, -Zincremental-info on the measured ones

def sandbox(n, dep_set):
    """<ob>/sandbox/linux-sandbox/<n>/execroot/ws: serde's sources copied, the set's outputs symlinked from the
    real execroot (as Bazel does), out/ empty."""
    real = f'{OB}/execroot/ws'
    os.makedirs(real, exist_ok=True)
    sd = f'{OB}/sandbox/linux-sandbox/{n}'
    shutil.rmtree(sd, ignore_errors=True)
    ws = f'{sd}/execroot/ws'
    os.makedirs(f'{ws}/src'); os.makedirs(f'{ws}/out/serde/_pipeline'); os.makedirs(f'{ws}/deps/cur')
    d = q.CH['serde'][0]
    if not os.path.isdir(f'{real}/src/{d}'):
        shutil.copytree(f'{q.REG}/{d}', f'{real}/src/{d}')
    shutil.copytree(f'{real}/src/{d}', f'{ws}/src/{d}')
    rd = f'{real}/deps/{dep_set}'
    if not os.path.isdir(rd):
        shutil.copytree(f'{q.Q6}/sets/{dep_set}', rd)
    for f in os.listdir(rd):
        os.symlink(f'{rd}/{f}', f'{ws}/deps/cur/{f}')
    return ws

def emit(pipeline):
    """the scale bench's --emit (bench/scale/rules/scale.bzl.in): the metadata action names _pipeline/ paths"""
    d = 'out/serde/_pipeline' if pipeline else 'out/serde'
    return f'--emit=metadata={d}/libserde.rmeta,link={d}/libserde.rlib'

def cmd(meta, inc, extra=(), pipeline=False):
    a = q.argv('serde', 'out/serde', inc='${output_base}/rustc-incremental' if inc else None, extra=extra)
    a = [x if not x.startswith('--remap-path-prefix=') else '--remap-path-prefix=${pwd}=.' for x in a]
    a = [x if not x.startswith('--emit=') else emit(pipeline) for x in a]
    w = [NODE, BUNDLE, '--subst', 'pwd=${pwd}', '--subst', 'output_base=${output_base}', '--rustc-output-format', 'rendered']
    if meta:
        w += ['--rustc-quit-on-rmeta', 'true']
    return w + ['--'] + a

def run(n, dep_set, meta, inc, extra=(), pipeline=False):
    ws = sandbox(n, dep_set)
    env = dict(os.environ, RULES_RUST_PROCESS_WRAPPER_DEBUG='1')
    if DIAG:
        env['RUSTC_BOOTSTRAP'] = '1'
    r = rr.run(cmd(meta, inc, extra, pipeline), env=env, cwd=ws)
    dbg = [l.strip() for l in r['stderr'].splitlines() if 'seedwrap' in l or '[incremental]' in l]
    return r, dbg

VARIANTS = [  # name, meta action?, -Cincremental?, metadata action names _pipeline/ paths?
    ('sw-meta/noflag/B', True, False, False),
    ('sw-meta/store-warm/B/same-emit', True, True, False),
    ('sw-meta/store-warm/B/pipeline-emit', True, True, True),
    ('sw-full/store-warm/B', False, True, False),
]

if __name__ == '__main__':
    rounds = int(sys.argv[1])
    inc_info = ['-Zincremental-info'] if DIAG else []
    for i in range(rounds):
        k = i % len(VARIANTS); order = VARIANTS[k:] + VARIANTS[:k]
        for name, meta, inc, pipeline in (order[::-1] if i % 2 else order):
            if inc:  # a fresh store holding the session of serde's full compile against set A
                shutil.rmtree(f'{OB}/rustc-incremental', ignore_errors=True); os.makedirs(f'{OB}/rustc-incremental')
                r0, d0 = run(1, 'A', False, True)
                assert r0['rc'] == 0, r0['stderr'][-3000:]
            r, dbg = run(2, 'B', meta, inc, inc_info if inc else [], pipeline)
            print(json.dumps(dict(crate='serde', variant=name, round=i, wall=r['wall'], cpu=r['cpu'], rc=r['rc'], ok=r['rc'] == 0,
                                  load=os.getloadavg()[0], t=time.strftime('%H:%M:%S'), diag=DIAG, debug=dbg[-12:],
                                  err=None if r['rc'] == 0 else r['stderr'][-1500:])), flush=True)
