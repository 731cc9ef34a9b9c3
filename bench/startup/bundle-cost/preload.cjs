// Loaded with `node -r`: appends "wall_ms cpu_ms" from here (the moment user
// code starts) to process exit to the file named by SEEDWRAP_BENCH_OUT. Node's
// own bootstrap is excluded, which removes most of the noise of a shared machine.
const { appendFileSync } = require('node:fs');
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
process.on('exit', () => {
  const c = process.cpuUsage(c0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  appendFileSync(process.env.SEEDWRAP_BENCH_OUT, `${wall.toFixed(3)} ${((c.user + c.system) / 1000).toFixed(3)}\n`);
});
