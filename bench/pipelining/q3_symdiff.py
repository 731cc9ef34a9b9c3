#!/usr/bin/env python3
"""Which functions grow between two variants of q3_perf (flat self time, ms per compile).
Usage: q3_symdiff.py CRATE VARIANT_A VARIANT_B [N]"""
import json, os, re, sys
from collections import defaultdict
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import q3_perf
c, va, vb = sys.argv[1:4]
N = int(sys.argv[4]) if len(sys.argv) > 4 else 25
rows = [json.loads(l) for l in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results/q3_perf.jsonl'))]
agg = {va: defaultdict(float), vb: defaultdict(float)}
n = defaultdict(int)
for r in rows:
    if r['crate'] != c or r['variant'] not in agg or r['rmeta'] is None:
        continue
    n[r['variant']] += 1
    for line in q3_perf.symbols(r['data']).splitlines():
        m = re.match(r'\s*(\d+)\s+(\S+)\s+\[\.\]\s+(.*)$', line) or re.match(r'\s*(\d+)\s+(\S+)\s+\[k\]\s+(.*)$', line)
        if m:
            sym = re.sub(r'::<.*', '::<…>', m.group(3).strip())[:110]
            agg[r['variant']][sym] += int(m.group(1))
ms = lambda v, s: agg[v][s] / n[v] * 1000 / 1999
syms = set(agg[va]) | set(agg[vb])
d = sorted(syms, key=lambda s: ms(vb, s) - ms(va, s), reverse=True)
print(f'{c}: {va} (n={n[va]}) -> {vb} (n={n[vb]}), ms per compile, top growth')
for s in d[:N]:
    print(f'{ms(va, s):7.1f} {ms(vb, s):7.1f} {ms(vb, s) - ms(va, s):+7.1f}  {s}')
