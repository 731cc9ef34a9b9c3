// Timestamps taken from outside seedwrap (bench/scale/run.mjs --breakdown),
// for the split of each compile action into seedwrap's own work, rustc and
// the link, without touching src/:
//   preload.cjs  NODE_OPTIONS=--require=...: in seedwrap's Node process, logs
//                performance.timeOrigin (process start), the moment user code
//                starts, every spawn/spawnSync (start, child exit) and the
//                process exit
//   rustc        --//rust:rustc=<this>: logs its start ($EPOCHREALTIME) and
//                crate, then execs the real rustc (same pid, so a kill at the
//                rmeta still reaches rustc)
//   bin/cc       first on the actions' PATH: the link, start and end
// Under linux-sandbox an absolute directory under /tmp is writable from
// actions (Bazel 4.2.3), so all three append to LOG_DIR/*.log.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeInstruments(dir, realRustc) {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const preload = join(dir, 'preload.cjs');
  writeFileSync(
    preload,
    `'use strict';
const t0 = performance.timeOrigin + performance.now();
const fs = require('node:fs');
const cp = require('node:child_process');
const argv = process.argv.slice(2);
if (!argv.includes('--persistent_worker')) {
  const rec = { pid: process.pid, origin: performance.timeOrigin, user: t0, spawns: [], meta: argv.includes('--rustc-quit-on-rmeta'), crate: (argv.find((a) => a.startsWith('--crate-name=')) || '').slice(13) };
  const spawn = cp.spawn;
  cp.spawn = function (program, args, opts) {
    const s = { program: String(program).split('/').pop(), start: performance.timeOrigin + performance.now() };
    rec.spawns.push(s);
    const child = spawn.call(this, program, args, opts);
    s.pid = child.pid;
    child.on('exit', () => { s.end = performance.timeOrigin + performance.now(); });
    return child;
  };
  const spawnSync = cp.spawnSync;
  cp.spawnSync = function (program, args, opts) {
    const s = { program: String(program).split('/').pop(), start: performance.timeOrigin + performance.now(), sync: true };
    rec.spawns.push(s);
    try { return spawnSync.call(this, program, args, opts); } finally { s.end = performance.timeOrigin + performance.now(); }
  };
  process.on('exit', () => {
    rec.exit = performance.timeOrigin + performance.now();
    try { fs.appendFileSync(${JSON.stringify(join(dir, 'node.log'))}, JSON.stringify(rec) + '\\n'); } catch {}
  });
}
`,
  );
  const rustc = join(dir, 'rustc');
  writeFileSync(
    rustc,
    `#!/bin/bash
s=$EPOCHREALTIME
n=
for a in "$@"; do case "$a" in --crate-name=*) n=\${a#--crate-name=};; esac; done
echo "$s $$ $n" >> ${join(dir, 'rustc.log')}
exec ${realRustc} "$@"
`,
  );
  chmodSync(rustc, 0o755);
  const cc = join(dir, 'bin/cc');
  writeFileSync(
    cc,
    `#!/bin/bash
s=$EPOCHREALTIME
/usr/bin/cc "$@"
rc=$?
echo "$s $EPOCHREALTIME $PPID" >> ${join(dir, 'cc.log')}
exit $rc
`,
  );
  chmodSync(cc, 0o755);
  return {
    rustcEnv: [`NODE_OPTIONS=--require=${preload}`, `PATH=${join(dir, 'bin')}:/usr/bin:/bin`],
    flags: [`--//rust:rustc=${rustc}`],
    reset() {
      for (const f of ['node.log', 'rustc.log', 'cc.log']) writeFileSync(join(dir, f), '');
    },
    read: () => readLogs(dir),
  };
}

const lines = (f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

/**
 * One record per one-shot seedwrap process that ran rustc: ms spent in each
 * part. nodeStart: process start -> user code; pre: user code -> the spawn
 * that runs rustc (option parsing, store lookup, the namespace probe);
 * namespace: that spawn -> rustc's exec (unshare + mounts, or ~1 ms of bash
 * for the shim alone); rustc: rustc's exec -> its exit, minus link; link: cc;
 * post: rustc's exit -> process exit (output handling, store upkeep).
 */
export function readLogs(dir) {
  const rustcs = lines(join(dir, 'rustc.log')).map((l) => {
    const [s, pid, crate] = l.split(' ');
    return { start: Number(s) * 1000, pid: Number(pid), crate };
  });
  const ccs = lines(join(dir, 'cc.log')).map((l) => {
    const [s, e, ppid] = l.split(' ');
    return { start: Number(s) * 1000, end: Number(e) * 1000, ms: (Number(e) - Number(s)) * 1000, ppid: Number(ppid) };
  });
  const out = [];
  for (const l of lines(join(dir, 'node.log'))) {
    const rec = JSON.parse(l);
    const main = rec.spawns.filter((s) => !s.sync && s.end !== undefined).pop();
    if (!main) continue;
    const r = rustcs.find((x) => x.start >= main.start && x.start <= main.end && (!rec.crate || x.crate === rec.crate));
    const exec = r ? r.start : main.start;
    // pid and time window: pids wrap quickly on a busy machine (pid_max 32768).
    const link = r ? ccs.filter((c) => c.ppid === r.pid && c.start >= r.start && c.end <= main.end + 1).reduce((a, c) => a + c.ms, 0) : 0;
    const probe = rec.spawns.filter((s) => s.sync).reduce((a, s) => a + (s.end - s.start), 0);
    out.push({
      crate: rec.crate,
      meta: rec.meta,
      nodeStart: rec.user - rec.origin,
      pre: main.start - rec.user,
      probe,
      namespace: exec - main.start,
      rustc: main.end - exec - link,
      link,
      post: rec.exit - main.end,
      total: rec.exit - rec.origin,
    });
  }
  return out;
}
