// `node compile.cjs FILE`: prints the CPU ms V8 takes to compile FILE as a
// script without running it: the pre-parse every action pays for every byte
// of the bundle, whether or not that code runs. CPU time, not wall time, so
// that a busy machine's scheduling does not count.
const { readFileSync } = require('node:fs');
const { Script } = require('node:vm');
const src = readFileSync(process.argv[2], 'utf8').replace(/^#!.*/, '');
const c0 = process.cpuUsage();
new Script(src, { filename: 'bundle.cjs' });
const c = process.cpuUsage(c0);
console.log(((c.user + c.system) / 1000).toFixed(3));
