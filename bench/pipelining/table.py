#!/usr/bin/env python3
"""Median table from q12.jsonl-style results: table.py FILE [FILE...]"""
import json, sys, statistics
from collections import defaultdict, OrderedDict
rows = defaultdict(list)
order = OrderedDict()
crates = OrderedDict()
for f in sys.argv[1:]:
    for line in open(f):
        j = json.loads(line)
        if 'variant' not in j:
            continue
        if not j.get('ok'):
            print('NOT OK', j, file=sys.stderr)
            continue
        rows[(j['crate'], j['variant'])].append(j)
        order[j['variant']] = 1
        crates[j['crate']] = 1
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
for c in crates:
    base = rows.get((c, 'kill/noflag')) or next((rows[(c, v)] for v in order if v.startswith('kill/noflag') and (c, v) in rows), None)
    bw = med([r['rmeta'] for r in base]) if base else None
    bc = med([r.get('cpu_rmeta') or r['cpu'] for r in base]) if base else None
    print(f'\n**{c}** (medians, ms; CPU = rustc user+sys; "÷ noflag" = CPU to rmeta ÷ kill/noflag\'s)\n')
    print('| variant | n | CPU to rmeta | CPU total | CPU to rmeta ÷ noflag | wall to rmeta | wall total | load (min–max) |')
    print('|---|---|---|---|---|---|---|---|')
    for v in order:
        rs = rows.get((c, v))
        if not rs:
            continue
        rm, wa, cp = med([r['rmeta'] for r in rs]), med([r['wall'] for r in rs]), med([r['cpu'] for r in rs])
        # CPU until the rmeta line: /proc at that instant (10 ms ticks); for killed runs the total is the same thing
        cr = med([r.get('cpu_rmeta') if r.get('cpu_rmeta') is not None else (r['cpu'] if v.startswith(('kill', 'emitmeta')) else None) for r in rs])
        lo = [r['load'] for r in rs]
        crs = f'{cr:.0f}' if cr is not None else '–'
        ratio = f'{cr / bc:.2f}' if cr is not None else '–'
        print(f'| {v} | {len(rs)} | {crs} | {cp:.0f} | {ratio} | {rm:.0f} | {wa:.0f} | {min(lo):.1f}–{max(lo):.1f} |')
