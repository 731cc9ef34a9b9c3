#!/usr/bin/env python3
"""q5_pair table: medians per crate, state, mode."""
import json, sys, statistics
from collections import defaultdict, OrderedDict
rows = defaultdict(list); order = OrderedDict()
for line in open(sys.argv[1]):
    j = json.loads(line)
    if not j.get('ok'):
        print('NOT OK', {k: j.get(k) for k in ('crate', 'state', 'mode', 'full_rc', 'meta_rc')}, file=sys.stderr); continue
    st = 'any' if j['mode'].endswith('noflag') else j['state']
    rows[(j['crate'], st, j['mode'])].append(j); order[(j['crate'], st, j['mode'])] = 1
med = lambda xs: statistics.median([x for x in xs if x is not None]) if any(x is not None for x in xs) else None
f = lambda x: '–' if x is None else f'{x:.0f}'
print('| crate | state | mode | n | rmeta available (wall) | metadata action ends (wall) | full action ends (wall) | CPU, both actions | CPU of the metadata action | load |')
print('|---|---|---|---|---|---|---|---|---|---|')
for k in order:
    rs = rows[k]
    lo = [r['load'] for r in rs]
    print(f'| {k[0]} | {k[1]} | {k[2]} | {len(rs)} | {f(med([r["rmeta"] for r in rs]))} | {f(med([r.get("meta_done") for r in rs]))} | '
          f'{f(med([r["full_done"] for r in rs]))} | {f(med([r["cpu"] for r in rs]))} | {f(med([r.get("meta_cpu") for r in rs]))} | {min(lo):.1f}–{max(lo):.1f} |')
