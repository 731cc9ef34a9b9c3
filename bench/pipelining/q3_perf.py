#!/usr/bin/env python3
"""Question 3, load-robust: where a metadata compile (killed at the rmeta, exactly as the wrapper does)
spends its CPU. `perf record` samples on CPU time only, so the profile is not inflated by other
processes (the machine is shared: load 15-20 while this ran). Samples of all rounds are summed,
then attributed to categories by symbol (flat profile: self time of each function).
Usage: q3_perf.py ROUNDS crate... ; then q3_perf.py --report"""
import json, os, re, shutil, signal, subprocess, sys, time
from collections import defaultdict
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr

D = '/tmp/pl/q3p'
INC, SNAP, OUT = f'{D}/inc', f'{D}/snap', f'{D}/out'

def setdeps(flavor):
    cur = f'{rr.WS}/deps/cur'
    if os.path.lexists(cur):
        os.unlink(cur)
    os.symlink(flavor, cur)

def fresh_out():
    shutil.rmtree(OUT, ignore_errors=True); os.makedirs(OUT)

def make_snaps(c):
    rr.set_source(c, 'orig'); setdeps('plain')
    for kind, kill in (('full', False), ('meta', True)):
        shutil.rmtree(INC, ignore_errors=True); fresh_out()
        r = rr.run(rr.argv(c, inc=INC, out=OUT, dep_flavor='cur'), kill_on_rmeta=kill)
        assert r['rmeta'] is not None and (kill or r['rc'] == 0), r['stderr'][-2000:]
        shutil.rmtree(f'{SNAP}/{c}/{kind}', ignore_errors=True)
        shutil.copytree(INC, f'{SNAP}/{c}/{kind}')

VARIANTS = [  # name, state, source, deps
    ('kill/noflag', None, 'body', 'plain'),
    ('kill/inc-empty', 'empty', 'body', 'plain'),
    ('kill/warm-full/body', 'full', 'body', 'plain'),
    ('kill/warm-full/comment', 'full', 'comment', 'plain'),
    ('kill/warm-meta/body', 'meta', 'body', 'plain'),
    ('kill/noflag/depedit', None, 'orig', 'edited'),
    ('kill/warm-full/depedit', 'full', 'orig', 'edited'),
]

def one(c, v, i):
    name, state, source, deps = v
    rr.set_source(c, source); setdeps(deps); fresh_out()
    shutil.rmtree(INC, ignore_errors=True)
    inc = None
    if state == 'empty':
        os.makedirs(INC); inc = INC
    elif state:
        shutil.copytree(f'{SNAP}/{c}/{state}', INC); inc = INC
    data = f'{D}/perf/{c}--{name.replace("/", "_")}--{i}.data'
    os.makedirs(os.path.dirname(data), exist_ok=True)
    a = ['perf', 'record', '-q', '-F', '1999', '-o', data, '--'] + rr.argv(c, inc=inc, out=OUT, dep_flavor='cur')
    t0 = time.perf_counter()
    p = subprocess.Popen(a, cwd=rr.WS, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1)
    t_rmeta = None
    for line in p.stderr:
        if '"emit":"metadata"' in line:
            t_rmeta = (time.perf_counter() - t0) * 1000
            kids = open(f'/proc/{p.pid}/task/{p.pid}/children').read().split()
            for k in kids:  # rustc, perf's only child
                os.kill(int(k), signal.SIGKILL)
            break
    p.stderr.read(); p.wait()
    return dict(crate=c, variant=name, round=i, rmeta=t_rmeta, data=data, load=os.getloadavg()[0], t=time.strftime('%H:%M:%S'))

CATS = [  # first match wins; applied to "dso symbol"
    ('kernel (page faults, file I/O, mmap)', r'\[kernel|\[k\]'),
    ('incr: load previous session / decode cached results', r'rustc_incremental::persist::load|on_disk_cache|OnDiskCache|CacheDecoder|SerializedDepGraph|load_dep_graph|MemDecoder|decode_'),
    ('incr: try_mark_green / mark green (reuse)', r'try_mark|mark_green|MarkFrame|DepNodeColor'),
    ('incr: dep-graph recording (query execution with tasks, edges, node encoding)', r'dep_graph|DepGraph|DepNode|EdgesVec|with_task|read_index|GraphEncoder|encode_node|EncoderState|task_deps|TaskDeps|with_deps|try_execute_query|execute_job|with_context_opt|alloc_and_color'),
    ('stable hashing (fingerprints of query results, HIR, spans as file:line:col)', r'SipHasher|StableHasher|hash_stable|HashStable|Fingerprint|def_path_hash|StableHashingContext|stable_hash|hash_one|ich::|span_data_to_lines_and_cols|CachingSourceMapView'),
    ('metadata encoding', r'rustc_metadata::rmeta::encoder|EncodeContext|FileEncoder'),
    ('allocator / memcpy (libc)', r'libc\.so|malloc|memcpy|memmove|_int_|cfree|jemalloc|je_'),
    ('rest of the front end (parse, expand, resolve, typeck, borrowck, mono collection)', r'.'),
]

def symbols(data):
    """perf report's flat per-symbol sample counts, cached beside the data file."""
    txt = data + '.txt'
    if not os.path.exists(txt):
        out = subprocess.run(['perf', 'report', '-i', data, '--sort=dso,sym', '--stdio', '-F', 'sample,dso,sym'],
                             capture_output=True, text=True).stdout
        open(txt, 'w').write(out)
    return open(txt).read()

CACHED_ONLY = os.environ.get('Q3_CACHED_ONLY') == '1'  # use only profiles already reported (perf report is slow)

def report():
    rows = [json.loads(l) for l in open(f'{os.path.dirname(os.path.abspath(__file__))}/results/q3_perf.jsonl')]
    agg = defaultdict(lambda: defaultdict(float))
    n = defaultdict(int)
    for r in rows:
        if r['rmeta'] is None or (CACHED_ONLY and not os.path.exists(r['data'] + '.txt')):
            continue
        out = symbols(r['data'])
        key = (r['crate'], r['variant'])
        n[key] += 1
        for line in out.splitlines():
            m = re.match(r'\s*(\d+)\s+(\S+)\s+(.*)$', line)
            if not m or line.lstrip().startswith('#'):
                continue
            s, dso, sym = int(m.group(1)), m.group(2), m.group(3)
            txt = dso + ' ' + sym
            for cat, rx in CATS:
                if re.search(rx, txt):
                    agg[key][cat] += s
                    break
            agg[key]['_total'] += s
    crates = sorted({k[0] for k in agg}, key=lambda c: list(rr.CRATES).index(c))
    variants = [v[0] for v in VARIANTS]
    for c in crates:
        vs = [v for v in variants if (c, v) in agg]
        hz = 1999
        print(f'\n**{c}**: CPU ms per compile by category (perf samples at {hz} Hz, summed over rounds, ÷ rounds; n = {min(n[(c, v)] for v in vs)}–{max(n[(c, v)] for v in vs)})\n')
        print('| category | ' + ' | '.join(vs) + ' |')
        print('|---|' + '---|' * len(vs))
        for cat, _ in CATS + [('_total', '')]:
            print(f'| {"**total**" if cat == "_total" else cat} | ' + ' | '.join(
                f'{agg[(c, v)].get(cat, 0) / n[(c, v)] * 1000 / hz:.0f}' for v in vs) + ' |')

if __name__ == '__main__':
    if sys.argv[1] == '--report':
        report(); sys.exit()
    rounds = int(sys.argv[1]); crates = sys.argv[2:]
    for c in crates:
        make_snaps(c)
    for i in range(rounds):
        for c in crates:
            vs = [v for v in VARIANTS if 'depedit' not in v[0] or c in ('serde_json', 'regex')]
            k = i % len(vs); order = vs[k:] + vs[:k]
            for v in (order[::-1] if i % 2 else order):
                print(json.dumps(one(c, v, i)), flush=True)
    for c in crates:
        rr.set_source(c, 'orig')
    setdeps('plain')
