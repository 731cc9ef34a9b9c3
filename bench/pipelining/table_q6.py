#!/usr/bin/env python3
"""Markdown tables of q6_measure.py / q6_emitpath.py / q6_seedwrap.py results: per crate and variant, medians.
Usage: table_q6.py results/X.jsonl [BASE_VARIANT]
       table_q6.py --combined results/q6.jsonl  (serde and model side by side, as in findings.md)"""
import json, statistics as st, sys
if sys.argv[1] == '--combined':
    rows = [json.loads(l) for l in open(sys.argv[2]) if l.startswith('{')]
    def m(c, v, k='cpu'):
        return st.median([r[k] for r in rows if r['crate'] == c and r['variant'] == v and r['ok'] and r.get(k) is not None])
    print('| variant | serde CPU to rmeta | serde CPU | serde ÷ noflag | model CPU to rmeta | model CPU | model ÷ noflag |')
    print('|---|---|---|---|---|---|---|')
    for v in dict.fromkeys(r['variant'] for r in rows):
        print(f"| {v} | {m('serde', v, 'cpu_rmeta'):.0f} | {m('serde', v):.0f} | {m('serde', v) / m('serde', 'kill/noflag/B'):.2f} | "
              f"{m('model', v, 'cpu_rmeta'):.0f} | {m('model', v):.0f} | {m('model', v) / m('model', 'kill/noflag/B'):.2f} |")
    sys.exit(0)
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
base = sys.argv[2] if len(sys.argv) > 2 else None
crates = list(dict.fromkeys(r['crate'] for r in rows))
for c in crates:
    rs = [r for r in rows if r['crate'] == c and r['ok']]
    vs = list(dict.fromkeys(r['variant'] for r in rs))
    b = base or vs[0]
    def med(v, k):
        xs = [r[k] for r in rs if r['variant'] == v and r.get(k) is not None]
        return st.median(xs) if xs else None
    bcpu = med(b, 'cpu')
    print(f'\n**{c}** (medians; CPU = rustc user+sys in ms from wait4; ratio = CPU ÷ {b})\n')
    print('| variant | n | CPU to rmeta | CPU total | CPU ÷ base | wall total | load (min–max) |')
    print('|---|---|---|---|---|---|---|')
    for v in vs:
        n = sum(1 for r in rs if r['variant'] == v)
        loads = [r['load'] for r in rs if r['variant'] == v]
        cr = med(v, 'cpu_rmeta')
        print(f'| {v} | {n} | {"" if cr is None else f"{cr:.0f}"} | {med(v, "cpu"):.0f} | {med(v, "cpu") / bcpu:.2f} | '
              f'{med(v, "wall"):.0f} | {min(loads):.1f}–{max(loads):.1f} |')
