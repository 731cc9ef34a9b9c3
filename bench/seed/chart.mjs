#!/usr/bin/env node
// Draws docs/seeding-chart.svg from bench/seed/results.json (written by
// bench.mjs): every bar is a ratio to the row's baseline measured in the same
// run (`cp -al`, `cp -r`, or a clean rustc build), so 1.0 = as fast as the
// baseline and shorter is better. No dependencies: the SVG is written by hand.
//   node bench/seed/chart.mjs [results.json] [out.svg]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const input = process.argv[2] ?? join(here, 'results.json');
const output = process.argv[3] ?? join(here, '../../docs/seeding-chart.svg');
const { machine, linkRows, copyRows, e2eRows } = JSON.parse(readFileSync(input, 'utf8'));

const sections = [
  { title: 'Hard links: time ÷ `cp -al` of the same tree', rows: linkRows, base: 'cp -al', bars: [['native', 'native 2 threads', '#9e9e9e'], ['seed', 'seedwrap (links)', '#1f77b4'], ['seed --copy-seed', 'seedwrap, own *.o', '#aec7e8']] },
  { title: 'Copy fallback (DEST on /dev/shm, EXDEV): time ÷ `cp -r`', rows: copyRows, base: 'cp -r', bars: [['native', 'native 2 threads', '#9e9e9e'], ['seed', 'seedwrap', '#ff7f0e']] },
  { title: 'Rebuild after a one-line edit: time ÷ clean build', rows: e2eRows, base: 'clean', bars: [['incremental, empty dir', 'incremental, empty dir', '#d62728'], ['in-place incremental', 'in-place incremental', '#9e9e9e'], ['seeded', 'seeded (seed + rustc)', '#2ca02c']] },
];

const W = 900, LABEL = 230, BAR = 11, GAP = 8, MAXR = 2.0;
const x = (r) => LABEL + (Math.min(r, MAXR) / MAXR) * (W - LABEL - 80);
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/`/g, '');
const parts = [];
let y = 40;
parts.push(`<text x="10" y="22" font-size="15" font-weight="bold">seedwrap seeding benchmark (${esc(machine.date.slice(0, 10))}, ${machine.cpus} vCPU, Node ${esc(machine.node)}, ${esc(machine.rustc)})</text>`);
for (const s of sections) {
  y += 14;
  parts.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">${esc(s.title)}</text>`);
  let lx = LABEL;
  for (const [, label, color] of s.bars) {
    parts.push(`<rect x="${lx}" y="${y + 6}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${y + 15}" font-size="11">${esc(label)}</text>`);
    lx += 30 + label.length * 6.2;
  }
  y += 24;
  const top = y;
  for (const row of s.rows) {
    const base = row.median[s.base];
    parts.push(`<text x="${LABEL - 8}" y="${y + (s.bars.length * BAR) / 2 + 4}" font-size="11" text-anchor="end">${esc(row.name)}</text>`);
    for (const [key, , color] of s.bars) {
      if (row.median[key] === undefined) { y += BAR; continue; } // a column that does not apply to this row
      const r = row.median[key] / base;
      parts.push(`<rect x="${LABEL}" y="${y}" width="${(x(r) - LABEL).toFixed(1)}" height="${BAR - 1}" fill="${color}"/>`);
      parts.push(`<text x="${(x(r) + 4).toFixed(1)}" y="${y + BAR - 2}" font-size="10">${r.toFixed(2)}×${r > MAXR ? ' (cut)' : ''}</text>`);
      y += BAR;
    }
    y += GAP;
  }
  for (const [r, dash, label] of [[1, '', '1.0'], [0.8, '4 3', '0.8 target']]) {
    if (s.base === 'clean' && r === 0.8) continue;
    parts.push(`<line x1="${x(r)}" y1="${top - 4}" x2="${x(r)}" y2="${y - GAP + 2}" stroke="#333" stroke-width="1" ${dash ? `stroke-dasharray="${dash}"` : ''}/>`);
    parts.push(`<text x="${x(r)}" y="${y + 6}" font-size="10" text-anchor="middle">${label}</text>`);
  }
  y += 16;
}
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 10}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
writeFileSync(output, svg);
console.log(`wrote ${output}`);
