#!/usr/bin/env python3
"""q5b_lean table: CPU medians and whether rustc loaded a session."""
import json, statistics, sys
from collections import defaultdict
rows = defaultdict(list)
for l in open(sys.argv[1]):
    j = json.loads(l)
    if 'variant' in j:
        rows[(j['crate'], j['variant'])].append(j)
print('| crate | variant | n | CPU (median) | wall to end (median) | session (-Zincremental-info) | load |')
print('|---|---|---|---|---|---|---|')
for (c, v), rs in rows.items():
    info = rs[0]['info']
    s = ('none' if not info else 'ignored: "completely ignoring cache because of differing commandline arguments"'
         if any('ignoring' in i for i in info) else info[0].replace('[incremental] session directory: ', 'loaded, '))
    lo = [r['load'] for r in rs]
    print(f"| {c} | {v} | {len(rs)} | {statistics.median(r['cpu'] for r in rs):.0f} | "
          f"{statistics.median(r['wall'] for r in rs):.0f} | {s} | {min(lo):.1f}–{max(lo):.1f} |")
