#!/usr/bin/env python3
"""q3 table: per crate, per pass the MIN wall ms over rounds (-Ztime-passes), variants as columns.
Nested passes are shown as rustc prints them (a parent includes its children)."""
import json, sys, statistics
from collections import defaultdict, OrderedDict
data = defaultdict(lambda: defaultdict(list))
info = defaultdict(set)
vorder, corder, porder = OrderedDict(), OrderedDict(), OrderedDict()
for line in open(sys.argv[1]):
    j = json.loads(line)
    if j.get('rmeta') is None:
        print('NO RMETA', j['crate'], j['variant'], file=sys.stderr); continue
    c, v = j['crate'], j['variant']
    corder[c] = 1; vorder[v] = 1
    data[c][v].append(j)
    for i in j['info']:
        info[(c, v)].add(i.split(':')[0][:60] if 'hard-linked' in i or 'copied' in i else i[:100])
    for p in j['passes']:
        porder[p] = 1
cols = [v for v in vorder if v.startswith('kill/')] + [v for v in vorder if not v.startswith('kill/')]
for c in corder:
    vs = [v for v in cols if data[c][v]]
    print(f'\n**{c}**: min over rounds, ms (n = {min(len(data[c][v]) for v in vs)}–{max(len(data[c][v]) for v in vs)} per variant)\n')
    print('| pass | ' + ' | '.join(vs) + ' |')
    print('|---|' + '---|' * len(vs))
    def mn(v, key=None, p=None):
        xs = [r['passes'].get(p, 0) for r in data[c][v]] if p else [r[key] for r in data[c][v]]
        return min(xs)
    print('| **to rmeta (min)** | ' + ' | '.join(f'**{mn(v, "rmeta"):.0f}**' for v in vs) + ' |')
    print('| CPU, median | ' + ' | '.join(f'{statistics.median(r["cpu"] for r in data[c][v]):.0f}' for v in vs) + ' |')
    for p in porder:
        vals = [mn(v, p=p) for v in vs]
        if max(vals) < 15 and not p.startswith('incr_comp'):
            continue
        print(f'| {p} | ' + ' | '.join(f'{x:.0f}' for x in vals) + ' |')
    print('\nsession found (-Zincremental-info):', '; '.join(f'{v}: {sorted(info[(c, v)]) or "-"}' for v in vs))
