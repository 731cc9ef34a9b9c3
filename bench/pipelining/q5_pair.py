#!/usr/bin/env python3
"""Question 5a/5c: a crate's two pipelined actions started at the same instant (what Bazel does when
the crate's inputs are ready), vs one rustc per crate.
Modes:
  two/shared      today's store: full action + metadata action (same command, killed at the rmeta),
                  both -Cincremental into the same (restored) directory
  two/meta-shm    the metadata action's -Cincremental is a throwaway EMPTY dir on tmpfs (/dev/shm)
  two/meta-seed   the metadata action's -Cincremental is a private hard-linked copy (cp -al, timed) of
                  the restored session, on the same file system; deleted after
  one             (a) one rustc per crate: only the full action runs; the rmeta is taken at its
                  artifact line
  two/noflag, one/noflag: the same without -Cincremental (plain rules_rust / Cargo)
Metrics: rmeta = ms until the rmeta is available to dependents (the metadata action's artifact line,
or the full's for `one`); meta_done = until the metadata action's process is gone (its Bazel action
ends then); full = until the full action ends; cpu = both processes' user+sys.
Usage: q5_pair.py ROUNDS crate... -> JSON lines"""
import json, os, shutil, subprocess, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr

INC = '/tmp/pl/q5/inc'
SNAP = '/tmp/pl/q5/snap'
SHM = '/dev/shm/pl-q5-meta'
PRIV = '/tmp/pl/q5/meta-private'

def setdeps(flavor):
    cur = f'{rr.WS}/deps/cur'
    if os.path.lexists(cur):
        os.unlink(cur)
    os.symlink(flavor, cur)

def outs():
    for d in ('/tmp/pl/q5/out-full', '/tmp/pl/q5/out-meta'):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

def make_snap(c):
    shutil.rmtree(INC, ignore_errors=True)
    rr.set_source(c, 'orig'); setdeps('plain'); outs()
    r = rr.run(rr.argv(c, inc=INC, out='/tmp/pl/q5/out-full', dep_flavor='cur'))
    assert r['rc'] == 0, r['stderr'][-2000:]
    shutil.rmtree(f'{SNAP}/{c}', ignore_errors=True)
    shutil.copytree(INC, f'{SNAP}/{c}')

STATES = {  # name: (restore snapshot?, source, deps)
    'warm-body': (True, 'body', 'plain'),
    'warm-depedit': (True, 'orig', 'edited'),
    'warm-comment': (True, 'comment', 'plain'),
    'cold': (False, 'body', 'plain'),
}
MODES = ['two/shared', 'two/meta-shm', 'two/meta-seed', 'one', 'two/noflag', 'one/noflag']

def spawn(a, kill, t0, res, key):
    p = subprocess.Popen(a, cwd=rr.WS, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1)
    def reader():
        for line in p.stderr:
            if key + '_rmeta' not in res and '"emit":"metadata"' in line:
                res[key + '_rmeta'] = (time.perf_counter() - t0) * 1000
                if kill:
                    p.kill()
                    break
        p.stderr.close()
        _, st, ru = os.wait4(p.pid, 0)
        res[key + '_done'] = (time.perf_counter() - t0) * 1000
        res[key + '_cpu'] = (ru.ru_utime + ru.ru_stime) * 1000
        res[key + '_rc'] = os.waitstatus_to_exitcode(st)
    th = threading.Thread(target=reader)
    th.start()
    return th

def one(c, state, mode):
    snap, source, deps = STATES[state]
    rr.set_source(c, source); setdeps(deps); outs()
    shutil.rmtree(INC, ignore_errors=True)
    if snap:
        shutil.copytree(f'{SNAP}/{c}', INC)
    else:
        os.makedirs(INC)
    shutil.rmtree(SHM, ignore_errors=True); shutil.rmtree(PRIV, ignore_errors=True)
    noflag = mode.endswith('noflag')
    inc = None if noflag else INC
    full = rr.argv(c, inc=inc, out='/tmp/pl/q5/out-full', dep_flavor='cur')
    res = dict(crate=c, state=state, mode=mode)
    subprocess.run(['sync'])
    t0 = time.perf_counter()
    ths = [spawn(full, False, t0, res, 'full')]
    if mode.startswith('two'):
        minc = inc
        if mode == 'two/meta-shm':
            os.makedirs(SHM); minc = SHM
        elif mode == 'two/meta-seed':
            subprocess.run(['cp', '-al', INC, PRIV], check=True)  # before the full action touches it? see note
            minc = PRIV
        meta = rr.argv(c, inc=minc, out='/tmp/pl/q5/out-meta', dep_flavor='cur')
        ths.append(spawn(meta, True, t0, res, 'meta'))
    for th in ths:
        th.join()
    res['rmeta'] = res.get('meta_rmeta') if mode.startswith('two') else res.get('full_rmeta')
    res['cpu'] = res['full_cpu'] + res.get('meta_cpu', 0)
    res['ok'] = res['full_rc'] == 0 and res['rmeta'] is not None
    res['load'] = os.getloadavg()[0]
    res['t'] = time.strftime('%H:%M:%S')
    return res

if __name__ == '__main__':
    rounds = int(sys.argv[1]); crates = sys.argv[2:]
    states = os.environ.get('Q5_STATES', 'warm-body,warm-depedit,cold').split(',')
    for c in crates:
        make_snap(c)
    combos = [(c, s, m) for c in crates for s in states for m in MODES
              if not (m.endswith('noflag') and s != states[0])]  # noflag: state-independent, once per crate
    for i in range(rounds):
        k = i % len(combos); order = combos[k:] + combos[:k]
        for c, s, m in (order[::-1] if i % 2 else order):
            print(json.dumps(one(c, s, m)), flush=True)
    for c in crates:
        rr.set_source(c, 'orig')
    setdeps('plain')
