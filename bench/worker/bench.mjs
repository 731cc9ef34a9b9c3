// Per-request overhead of the persistent worker vs the native one-shot
// wrapper, side by side in one run. Every variant runs `/bin/true`:
//
//   spawn-true      the driver spawns /bin/true itself: the floor under every row
//   native-oneshot  the driver spawns bench/native-wrapper -- /bin/true (what Bazel
//                   pays per action with rules_rust's native process_wrapper)
//   node-oneshot    the driver spawns node dist/seedwrap.cjs -- /bin/true
//   worker-proto    one WorkRequest ["--", "/bin/true"] written to a running
//                   `seedwrap --persistent_worker`, until its WorkResponse is read
//   worker-json     the same over the JSON protocol
//   worker-proto-x8 8 requests in flight (multiplex); time per request = wall / n
//
// Rounds interleave the variants (a different order each round), so load that
// comes and goes hits every row alike. Prints medians, p10/p90 and ratios.
//
// Usage: node bench/worker/bench.mjs [--rounds 20] [--per-round 25] [--json out.json]
// Needs dist/seedwrap.cjs (`npm run build`) and cargo for the native wrapper.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROUNDS = Number(opt('--rounds', 20));
const PER_ROUND = Number(opt('--per-round', 25));
const jsonOut = opt('--json', undefined);

const bundle = join(root, 'dist', 'seedwrap.cjs');
if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build`);
const native = execFileSync(join(root, 'bench', 'native-wrapper', 'build.sh'), { encoding: 'utf8' }).trim();
// Like Bazel: no NODE_OPTIONS or extra CA file for the tool.
const env = { ...process.env };
delete env.NODE_OPTIONS;
delete env.NODE_EXTRA_CA_CERTS;

function runOnce(cmd, argv) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'pipe'], env });
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${cmd} exited ${code}`));
      else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  });
}

// --- a minimal client for both protocols (the worker's own codec is TypeScript) ---
function varint(n) {
  const out = [];
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return Buffer.from(out);
}
function protoRequest(id, argv) {
  const parts = [];
  for (const a of argv) { const b = Buffer.from(a); parts.push(Buffer.from([0x0a]), varint(b.length), b); }
  if (id) parts.push(Buffer.from([0x18]), varint(id));
  const body = Buffer.concat(parts);
  return Buffer.concat([varint(body.length), body]);
}
function readVarint(buf, pos) {
  let n = 0, shift = 0, b;
  do {
    if (pos >= buf.length) return undefined;
    b = buf[pos++];
    n += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return { n, pos };
}

class Worker {
  constructor(protocol) {
    this.protocol = protocol;
    this.child = spawn(process.execPath, [bundle, '--persistent_worker'], { stdio: ['pipe', 'pipe', 'inherit'], env });
    this.buf = Buffer.alloc(0);
    this.waiting = new Map();
    this.child.stdout.on('data', (c) => this.onData(c));
    this.nextId = 1;
  }
  request() {
    const id = this.nextId++;
    const argv = ['--', '/bin/true'];
    const frame = this.protocol === 'proto' ? protoRequest(id, argv) : Buffer.from(JSON.stringify({ arguments: argv, requestId: id }));
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(frame);
    });
  }
  onData(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      let id, exit = 0, end;
      if (this.protocol === 'proto') {
        const len = readVarint(this.buf, 0);
        if (!len || this.buf.length < len.pos + len.n) return;
        end = len.pos + len.n;
        let pos = len.pos;
        id = 0;
        while (pos < end) {
          const tag = this.buf[pos++];
          const v = readVarint(this.buf, pos);
          pos = v.pos;
          if ((tag & 7) === 2) pos += v.n;
          else if (tag >> 3 === 1) exit = v.n;
          else if (tag >> 3 === 3) id = v.n;
        }
      } else {
        const nl = this.buf.indexOf(0x0a);
        if (nl < 0) return;
        const o = JSON.parse(this.buf.subarray(0, nl).toString());
        id = o.requestId ?? 0;
        exit = o.exitCode;
        end = nl + 1;
      }
      this.buf = this.buf.subarray(end);
      if (exit !== 0) throw new Error(`request ${id} exited ${exit}`);
      const resolve = this.waiting.get(id);
      this.waiting.delete(id);
      resolve();
    }
  }
  async timed() {
    const t0 = process.hrtime.bigint();
    await this.request();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }
  close() {
    this.child.stdin.end();
    return new Promise((r) => this.child.on('close', r));
  }
}

const proto = new Worker('proto');
const json = new Worker('json');
const multi = new Worker('proto');

async function inFlight8() {
  const n = 8;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: n }, () => multi.request()));
  return Number(process.hrtime.bigint() - t0) / 1e6 / n;
}

const variants = {
  'spawn-true': () => runOnce('/bin/true', []),
  'native-oneshot': () => runOnce(native, ['--', '/bin/true']),
  'node-oneshot': () => runOnce(process.execPath, [bundle, '--', '/bin/true']),
  'worker-proto': () => proto.timed(),
  'worker-json': () => json.timed(),
  'worker-proto-x8': inFlight8,
};
const names = Object.keys(variants);
const samples = Object.fromEntries(names.map((n) => [n, []]));

// Warm-up: workers start, page cache, JIT.
for (const n of names) for (let i = 0; i < 5; i++) await variants[n]();
for (let r = 0; r < ROUNDS; r++) {
  const order = names.map((n, i) => names[(i + r) % names.length]);
  for (const n of order) for (let i = 0; i < PER_ROUND; i++) samples[n].push(await variants[n]());
}
await Promise.all([proto.close(), json.close(), multi.close()]);

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const median = (n) => q(samples[n], 0.5);
const nat = median('native-oneshot');
const floor = median('spawn-true');
const rows = names.map((n) => ({
  variant: n,
  median_ms: median(n),
  p10_ms: q(samples[n], 0.1),
  p90_ms: q(samples[n], 0.9),
  vs_native: median(n) / nat,
  over_floor_ms: median(n) - floor,
}));
console.log(`node ${process.version}, ${ROUNDS} rounds x ${PER_ROUND} per variant, interleaved`);
console.log('| variant | median ms | p10 | p90 | vs native one-shot | above spawn-true floor (ms) |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.variant} | ${r.median_ms.toFixed(2)} | ${r.p10_ms.toFixed(2)} | ${r.p90_ms.toFixed(2)} | ${r.vs_native.toFixed(2)}x | ${r.over_floor_ms.toFixed(2)} |`);
}
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ node: process.version, rounds: ROUNDS, perRound: PER_ROUND, rows }, null, 2)}\n`);
