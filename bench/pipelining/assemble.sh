#!/bin/sh
# Rebuild the tables of findings.md from results/ (the prose lives in doc/*.md).
set -e
cd "$(dirname "$0")"
python3 table.py results/q12-run1.jsonl results/q12.jsonl > /tmp/pl-t12.md
python3 table.py results/q2_procmacro.jsonl > /tmp/pl-tpm.md
Q3_CACHED_ONLY=1 python3 q3_perf.py --report > /tmp/pl-t3.md
python3 table_q5.py results/q5.jsonl > /tmp/pl-t5.md
python3 table_q5b.py results/q5b.jsonl > /tmp/pl-t5b.md
python3 - <<'PY'
r = lambda f: open(f).read().strip()
doc = ''.join(r(f'doc/{p}.md') + '\n\n' for p in ('head', 'q12', 'q2pm', 'q3', 'q4', 'q5', 'concl'))
for k, f in (('TABLES_Q12', '/tmp/pl-t12.md'), ('TABLE_PM', '/tmp/pl-tpm.md'), ('TABLE_Q3', '/tmp/pl-t3.md'),
             ('TABLE_Q5B', '/tmp/pl-t5b.md'), ('TABLE_Q5', '/tmp/pl-t5.md')):
    assert k in doc, k
    doc = doc.replace(k, r(f))
open('findings.md', 'w').write(doc)
PY
