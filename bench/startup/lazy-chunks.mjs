// Wrapper CPU per action (user+sys of the Node process itself, µs resolution
// from process.cpuUsage() at exit via a -r preload; the child /bin/true is not
// counted), A/B between two bundles and an empty script, interleaved.
//   node bench/startup/lazy-chunks.mjs OLD.cjs NEW.cjs [ROUNDS]
import { spawnSync } from 'node:child_process';
import { openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const [a, b, rounds = '80'] = process.argv.slice(2);
const preload = join(import.meta.dirname, 'cpu-preload.cjs');
const empty = join(tmpdir(), 'seedwrap-empty.js');
writeFileSync(empty, '');
const out = join(tmpdir(), 'seedwrap-cpu.out');
const variants = { A: [a, '--', '/bin/true'], B: [b, '--', '/bin/true'], empty: [empty] };
const cpu = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let round = 0; round < Number(rounds); round++) {
  for (const [name, args] of Object.entries(variants)) {
    const fd = openSync(out, 'w');
    spawnSync(process.execPath, ['-r', preload, ...args], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'ignore', 'ignore', fd] });
    closeSync(fd);
    cpu[name].push(Number(readFileSync(out, 'utf8')));
  }
}
const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
for (const [k, v] of Object.entries(cpu)) console.log(`${k.padEnd(6)} median CPU ms ${med(v).toFixed(2)}`);
console.log(`B/A ${(med(cpu.B) / med(cpu.A)).toFixed(3)}  A/empty ${(med(cpu.A) / med(cpu.empty)).toFixed(3)}  B/empty ${(med(cpu.B) / med(cpu.empty)).toFixed(3)}`);
