// What carrying the lazy chunks costs V8 per action, by the form they take in
// the file: the bundle as built (chunks as `//chunk N "..."` line comments),
// the same chunks as string literals (the form before), and no chunks. Each
// variant is read and compiled (vm.compileFunction, as Node's CJS loader does;
// a random suffix defeats V8's compilation cache), interleaved, CPU ms medians.
//   node bench/startup/chunk-forms.mjs [BUNDLE] [RUNS]
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFunction } from 'node:vm';

const bundle = process.argv[2] ?? join(import.meta.dirname, '../../dist/seedwrap.cjs');
const runs = Number(process.argv[3] ?? 60);
const text = readFileSync(bundle, 'latin1').replace(/^#!.*\n/, '');
const isChunk = (l) => /^\/\/chunk \d+ "/.test(l);
const lines = text.split('\n');
const main = lines.filter((l) => !isChunk(l)).join('\n');
// A chunk line ends with its id since 2026-12-07 (scripts/build.mjs, V8 code cache); not part of the literal.
const literals = lines.filter(isChunk).map((l, n) => `var __chunk${n} = ${l.slice(l.indexOf('"')).replace(/ [0-9a-f]{16}$/, '')};`).join('\n');
const dir = mkdtempSync(join(tmpdir(), 'seedwrap-chunk-forms-'));
const variants = [['as built: chunks in line comments', text], ['chunks as string literals', `${main}\n${literals}\n`], ['no chunks', main]].map(([name, src], i) => {
  const file = join(dir, `${i}.cjs`);
  writeFileSync(file, src, 'latin1');
  return [name, file, src.length];
});
const cpu = variants.map(() => []);
const load0 = loadavg()[0];
for (let r = 0; r < runs; r++) {
  variants.forEach(([, file], i) => {
    const c0 = process.cpuUsage();
    compileFunction(`${readFileSync(file, 'utf8')}\n//${Math.random()}`, ['exports', 'require', 'module', '__filename', '__dirname']);
    const c = process.cpuUsage(c0);
    cpu[i].push((c.user + c.system) / 1000);
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${new Date().toISOString()}; ${process.version}; ${runs} interleaved runs; load ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
console.log('| form | KiB | read + compile, CPU ms (median) |\n|---|---|---|');
variants.forEach(([name, , size], i) => console.log(`| ${name} | ${(size / 1024).toFixed(1)} | ${median(cpu[i]).toFixed(2)} |`));
rmSync(dir, { recursive: true, force: true });
