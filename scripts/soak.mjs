#!/usr/bin/env node
// Long reliability runs against the built bundle (dist/seedwrap.cjs), too long
// for the default test run. Each part prints one line of figures; the last line
// is a JSON summary; the exit code is 1 if any run broke an invariant.
//
//   node scripts/soak.mjs [parts...] [--kills N] [--runs N] [--requests N] [--procs N] [--attacks N] [--bundle PATH]
//
// parts: kills (kill -9 / SIGTERM of a seeding seedwrap at random moments),
//        concurrent (N processes seeding one source: to N DESTs, and to one DEST),
//        wrapper (wrapper runs in a row), worker (4-way multiplexed requests),
//        attacks (issue 10's seeding attacks: a 5,000,000-path fan, FIFOs
//        swapped in mid-seed, SIGTERM while walking; --attacks N rounds),
//        default: all five. Counts also come from SOAK_KILLS, SOAK_RUNS,
//        SOAK_REQUESTS, SOAK_PROCS, SOAK_ATTACKS. Defaults: 200 kills, 1,000 runs, 10,000
//        requests, 8 processes, 20 attack rounds. CI runs a smaller count (docs/reliability.md).
//
// The vitest suite test/faults/load.test.ts imports these functions with small counts.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_BUNDLE = process.env.SEEDWRAP_BUNDLE ?? join(ROOT, 'dist', 'seedwrap.cjs');
const NODE = process.execPath;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = (n) => Math.floor(Math.random() * n);

/** path → "type mode size sha" (links counted separately): the seed must never change. */
export function fingerprint(root, withLinks = false) {
  const out = {};
  const visit = (dir, rel) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const sha = st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16) : '';
      out[r] = `${st.isDirectory() ? 'd' : st.isFile() ? 'f' : 'o'} ${(st.mode & 0o7777).toString(8)} ${st.isFile() ? st.size : 0} ${sha}${withLinks ? ` n${st.nlink}` : ''}`;
      if (st.isDirectory()) visit(p, r);
    }
  };
  visit(root, '');
  return out;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const filesOnly = (fp) => Object.fromEntries(Object.entries(fp).filter(([, v]) => v.startsWith('f ')).map(([k, v]) => [k, v.split(' ')[3]]));

/** `copies` directories of the same `files` hard-linked files. */
export function linkedSeed(root, files, copies) {
  const originals = join(root, 'originals');
  mkdirSync(originals, { recursive: true });
  for (let f = 0; f < files; f++) writeFileSync(join(originals, `f${f}`), `file ${f} ${'x'.repeat(f % 97)}\n`);
  const seed = join(root, 'seed');
  for (let c = 0; c < copies; c++) {
    mkdirSync(join(seed, `d${c}`), { recursive: true });
    for (let f = 0; f < files; f++) linkSync(join(originals, `f${f}`), join(seed, `d${c}`, `f${f}`));
  }
  return seed;
}

export function stagingOf(dest) {
  const prefix = `.${basename(dest)}.seedwrap-staging-`;
  try {
    return readdirSync(dirname(dest)).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

/** 'absent' | 'empty' | 'complete' | 'partial' */
export function destState(dest, wantFiles) {
  let st;
  try {
    st = lstatSync(dest);
  } catch {
    return 'absent';
  }
  if (!st.isDirectory()) return 'partial';
  const got = fingerprint(dest);
  if (Object.keys(got).length === 0) return 'empty';
  return same(filesOnly(got), wantFiles) ? 'complete' : 'partial';
}

function run(bundle, args, opts = {}) {
  return new Promise((res) => {
    const child = spawn(NODE, ['--', bundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code, signal) => res({ code, signal, stdout, stderr }));
  });
}

const seedArgs = (mode, src, dest) => (mode === 'command' ? ['seed', src, dest] : ['--copy-seed', src, dest, '--seed-min-mb', '0', '--exit-early', 'true']);

/** kill -9 / SIGTERM at random moments; afterwards DEST is absent or complete, never partial, and leftovers go. */
export async function soakKills({ bundle = DEFAULT_BUNDLE, kills = 200, log = () => {} } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'seedwrap-soak-kills-'));
  const t = { kills, absent: 0, empty: 0, complete: 0, partial: 0, sigkill: 0, sigterm: 0, leftoversMade: 0, leftoversCleaned: 0, seedChanged: 0, failures: [] };
  try {
    const seed = linkedSeed(root, 150, 40);
    const before = fingerprint(seed);
    const beforeLinks = fingerprint(seed, true);
    const want = filesOnly(before);
    const dest = join(root, 'out', 'dest');
    mkdirSync(join(root, 'out'));
    let previous = [];
    for (let i = 0; i < kills; i++) {
      const signal = rand(3) === 0 ? 'SIGTERM' : 'SIGKILL';
      t[signal === 'SIGKILL' ? 'sigkill' : 'sigterm']++;
      const strategy = ['sync', 'async', 'threads'][rand(3)];
      const child = spawn(NODE, ['--', bundle, ...seedArgs(rand(2) ? 'command' : 'wrapper', seed, dest)], { stdio: 'ignore', env: { ...process.env, SEEDWRAP_SEED_STRATEGY: strategy } });
      const exited = new Promise((r) => child.on('exit', r));
      await sleep(30 + rand(600));
      child.kill(signal);
      await exited;
      const state = destState(dest, want);
      t[state]++;
      if (state === 'partial') t.failures.push(`kill ${i}: partial DEST after ${signal}`);
      const left = stagingOf(dest);
      const survivors = previous.filter((n) => left.includes(n));
      if (state === 'complete' && survivors.length > 0) t.failures.push(`kill ${i}: a completed run left older staging ${survivors}`);
      t.leftoversCleaned += previous.length - survivors.length;
      t.leftoversMade += left.filter((n) => !previous.includes(n)).length;
      previous = left;
      if (!same(fingerprint(seed), before)) {
        t.seedChanged++;
        t.failures.push(`kill ${i}: the seed changed`);
      }
      if (state !== 'absent') rmSync(dest, { recursive: true, force: true });
      if ((i + 1) % 50 === 0) log(`  kills: ${i + 1}/${kills}`);
    }
    const final = await run(bundle, ['seed', seed, dest]);
    if (final.code !== 0 || destState(dest, want) !== 'complete') t.failures.push(`final seed: exit ${final.code} ${final.stderr.trim()}`);
    t.leftoversCleaned += previous.length;
    if (stagingOf(dest).length > 0) t.failures.push(`final seed left staging ${stagingOf(dest)}`);
    rmSync(dest, { recursive: true, force: true });
    if (!same(fingerprint(seed, true), beforeLinks)) t.failures.push('after cleanup the seed link counts differ');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return t;
}

/** N processes at once: N DESTs (all complete), then one DEST (exactly one winner, the rest cold, nothing partial). */
export async function soakConcurrent({ bundle = DEFAULT_BUNDLE, procs = 8, rounds = 1 } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'seedwrap-soak-conc-'));
  const t = { procs, rounds, distinctComplete: 0, sameWinners: [], sameCold: 0, failures: [] };
  try {
    const seed = linkedSeed(root, 100, 30);
    const before = fingerprint(seed);
    const want = filesOnly(before);
    for (let round = 0; round < rounds; round++) {
      const dir = join(root, `r${round}`);
      mkdirSync(dir);
      const dests = Array.from({ length: procs }, (_, i) => join(dir, `dest${i}`));
      const rs = await Promise.all(dests.map((d, i) => run(bundle, seedArgs(i % 2 ? 'wrapper' : 'command', seed, d))));
      rs.forEach((r, i) => {
        if (r.code === 0 && destState(dests[i], want) === 'complete' && stagingOf(dests[i]).length === 0) t.distinctComplete++;
        else t.failures.push(`distinct ${i}: exit ${r.code} ${r.stderr.trim()} state ${destState(dests[i], want)}`);
      });
      const one = join(dir, 'shared', 'dest');
      const modes = Array.from({ length: procs }, (_, i) => (i % 2 ? 'wrapper' : 'command'));
      const ss = await Promise.all(modes.map((m) => run(bundle, seedArgs(m, seed, one))));
      let winners = 0;
      ss.forEach((r, i) => {
        const won = modes[i] === 'command' ? r.code === 0 : r.code === 0 && r.stderr === '';
        const cold = modes[i] === 'command' ? r.code !== 0 && /not empty|someone else/.test(r.stderr) : r.code === 0 && /^seedwrap: starting cold: .*(not empty|someone else)/.test(r.stderr);
        if (won) winners++;
        else if (cold) t.sameCold++;
        else t.failures.push(`same ${i} (${modes[i]}): exit ${r.code} ${r.stderr.trim()}`);
      });
      t.sameWinners.push(winners);
      if (winners !== 1) t.failures.push(`same DEST: ${winners} winners`);
      if (destState(one, want) !== 'complete') t.failures.push(`same DEST is ${destState(one, want)}`);
      if (stagingOf(one).length > 0) t.failures.push(`same DEST: staging left ${stagingOf(one)}`);
      if (!same(fingerprint(seed), before)) t.failures.push('the seed changed');
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return t;
}

/** Wrapper runs in a row, each checked: param file expansion, substitution, stdout file, exit code. */
export async function soakWrapper({ bundle = DEFAULT_BUNDLE, runs = 1000, log = () => {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'seedwrap-soak-wrapper-'));
  const t = { runs, ok: 0, failures: [], p50ms: 0, p95ms: 0, maxms: 0 };
  const times = [];
  try {
    writeFileSync(join(dir, 'args.params'), '--flag\n${pwd}/x\n@inner.params\n');
    writeFileSync(join(dir, 'inner.params'), 'inner\n');
    for (let i = 0; i < runs; i++) {
      const code = i % 5;
      const t0 = performance.now();
      const r = await run(
        bundle,
        ['--subst', 'pwd=${pwd}', '--stdout-file', 'out.txt', '--touch-file', 'touched', '--', '/bin/sh', '-c', `cat "\${1#@}" | tr '\\n' ' '; echo err$0 >&2; exit ${code}`, String(i), '@args.params'],
        { cwd: dir },
      );
      times.push(performance.now() - t0);
      const out = readFileSync(join(dir, 'out.txt'), 'utf8');
      const good = r.code === code && r.stderr === `err${i}\n` && out === `--flag ${dir}/x inner ` && readFileSync(join(dir, 'args.params.expanded'), 'utf8') === `--flag\n${dir}/x\ninner\n`;
      if (good) t.ok++;
      else t.failures.push(`run ${i}: exit ${r.code} (want ${code}) stderr ${JSON.stringify(r.stderr)} out ${JSON.stringify(out)}`);
      rmSync(join(dir, 'touched'), { force: true });
      if ((i + 1) % 250 === 0) log(`  wrapper: ${i + 1}/${runs}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  t.p50ms = Math.round(times[Math.floor(times.length / 2)] ?? 0);
  t.p95ms = Math.round(times[Math.floor(times.length * 0.95)] ?? 0);
  t.maxms = Math.round(times[times.length - 1] ?? 0);
  return t;
}

function procSample(pid) {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return { rssMb: Math.round(rss * 10) / 10, fds };
  } catch {
    return { rssMb: NaN, fds: NaN };
  }
}

/**
 * The worker under `concurrency`-way multiplexing (JSON protocol, as Bazel 4.2.3
 * sends it: objects back to back): a mix of successes, failures, output on both
 * streams and cancels. RSS and open fds are sampled every `every` requests.
 */
export async function soakWorker({ bundle = DEFAULT_BUNDLE, requests = 10_000, concurrency = 4, log = () => {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'seedwrap-soak-worker-'));
  const t = { requests, concurrency, ok: 0, cancelled: 0, failures: [], samples: [], quiescent: undefined, workerExit: null };
  const worker = spawn(NODE, ['--', bundle, '--persistent_worker'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  worker.stderr.on('data', (c) => (stderr += c));
  const waiting = new Map();
  let buf = '';
  worker.stdout.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const res = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      const w = waiting.get(res.requestId ?? 0);
      if (w) {
        waiting.delete(res.requestId ?? 0);
        w(res);
      } else t.failures.push(`unexpected response ${JSON.stringify(res)}`);
    }
  });
  const closed = new Promise((r) => worker.on('close', (code) => r(code)));
  const every = Math.max(1, Math.floor(requests / 20));
  let next = 1;
  let limit = 0;
  const one = async () => {
    for (;;) {
      if (next > limit) return;
      const id = next++;
      const kind = id % 10;
      const args =
        kind === 0
          ? ['--', '/bin/sh', '-c', `echo out${id}; echo err${id} >&2; exit 7`]
          : kind === 1
            ? ['--', '/bin/sleep', '5']
            : ['--', '/bin/echo', `hello ${id}`];
      const answered = new Promise((r) => waiting.set(id, r));
      worker.stdin.write(JSON.stringify({ arguments: args, requestId: id }));
      if (kind === 1) {
        await sleep(5);
        worker.stdin.write(JSON.stringify({ requestId: id, cancel: true }));
      }
      const res = await answered;
      const good =
        kind === 0
          ? res.exitCode === 7 && res.output.includes(`out${id}\n`) && res.output.includes(`err${id}\n`)
          : kind === 1
            ? res.wasCancelled === true
            : (res.exitCode ?? 0) === 0 && res.output === `hello ${id}\n`;
      if (good) kind === 1 ? t.cancelled++ : t.ok++;
      else t.failures.push(`request ${id}: ${JSON.stringify(res)}`);
      if (id % every === 0) {
        t.samples.push({ at: id, ...procSample(worker.pid) });
        if (id % (every * 5) === 0) log(`  worker: ${id}/${requests} ${JSON.stringify(t.samples.at(-1))}`);
      }
    }
  };
  const phase = (upTo) => {
    limit = upTo;
    return Promise.all(Array.from({ length: concurrency }, one));
  };
  try {
    // Warm-up, then a quiescent sample (no request in flight, so no child pipes open).
    await phase(Math.max(1, Math.floor(requests / 10)));
    t.quiescent = [{ at: limit, ...procSample(worker.pid) }];
    await phase(requests);
    t.quiescent.push({ at: requests, ...procSample(worker.pid) });
    t.samples.push({ at: requests, ...procSample(worker.pid) });
    worker.stdin.end();
    t.workerExit = await closed;
    if (t.workerExit !== 0) t.failures.push(`worker exit ${t.workerExit}: ${stderr.trim()}`);
  } finally {
    if (worker.exitCode === null) worker.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  // Stable: between the quiescent samples after warm-up and at the end, open
  // fds do not grow at all and RSS grows by less than 50% (+10 MB of slack).
  const [warm, last] = t.quiescent ?? [];
  if (warm && last) {
    if (last.fds > warm.fds) t.failures.push(`fds grew from ${warm.fds} to ${last.fds} with nothing in flight`);
    if (last.rssMb > warm.rssMb * 1.5 + 10) t.failures.push(`RSS grew from ${warm.rssMb} to ${last.rssMb} MB`);
  }
  return t;
}

/**
 * Issue 10's seeding attacks, at length: the issue's own fan (250 directory
 * symlinks to one 20,000-file directory: 5,000,000 paths) must be refused by
 * the total bound; `rounds` times, each of 1,500 `*.o` of a rustc seed is swapped for
 * a FIFO by another process while `seedwrap seed` copies them (it must end by
 * itself: fail cleanly or finish, never block); and `rounds` times SIGTERM
 * reaches the wrapper at a random moment while it walks a 755,000-path seed
 * (exit 143, no child, nothing left; the time from the signal to the exit is
 * reported, not judged).
 */
export async function soakAttacks({ bundle = DEFAULT_BUNDLE, rounds = 20, log = () => {} } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'seedwrap-soak-attacks-'));
  const t = { rounds, fanSeconds: 0, fifoEndedAlone: 0, fifoFailedCleanly: 0, fifoSeeded: 0, termExited143: 0, termMs: [], failures: [] };
  try {
    // 1. The fan.
    const fan = join(root, 'fan');
    mkdirSync(join(fan, 'real'), { recursive: true });
    for (let f = 0; f < 20_000; f++) writeFileSync(join(fan, 'real', `f${f}`), '');
    for (let v = 0; v < 250; v++) symlinkSync('real', join(fan, `v${v}`));
    const t0 = Date.now();
    const r = await run(bundle, ['seed', '--dry-run', fan, join(root, 'fan-dest')]);
    t.fanSeconds = (Date.now() - t0) / 1000;
    if (r.code !== 1 || !/more than 1000000 files and directories \(the limit/.test(r.stderr)) t.failures.push(`fan: exit ${r.code} ${r.stderr.trim()}`);
    rmSync(fan, { recursive: true, force: true });
    log(`  attacks: fan refused in ${t.fanSeconds.toFixed(1)} s`);

    // 2. FIFOs swapped in mid-seed: made beforehand, renamed over the *.o files once the staging directory appears.
    for (let i = 0; i < rounds; i++) {
      const seed = join(root, `fifo${i}`, 'seed');
      const session = join(seed, 'c-1ab', 's-a-b-c');
      const side = join(root, `fifo${i}`, 'fifos');
      mkdirSync(session, { recursive: true });
      mkdirSync(side);
      writeFileSync(join(seed, 'c-1ab', 's-a-b.lock'), '');
      const names = Array.from({ length: 1500 }, (_, f) => `cgu${f}.o`);
      for (const [f, name] of names.entries()) writeFileSync(join(session, name), `object ${f} ${'x'.repeat(4096)}`);
      await new Promise((res) => spawn('mkfifo', names, { cwd: side, stdio: 'ignore' }).on('exit', res));
      const dest = join(root, `fifo${i}`, 'dest');
      const strategy = ['sync', 'threads'][rand(2)];
      const child = spawn(NODE, ['--', bundle, 'seed', seed, dest], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SEEDWRAP_SEED_STRATEGY: strategy } });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const exited = new Promise((res) => child.on('exit', (code) => res(code)));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      while (stagingOf(dest).length === 0 && child.exitCode === null) await sleep(1);
      for (const name of names.reverse()) renameSync(join(side, name), join(session, name));
      const code = await exited;
      clearTimeout(timer);
      if (code === null) t.failures.push(`fifo ${i} (${strategy}): blocked, killed after 60 s`);
      else t.fifoEndedAlone++;
      const state = destState(dest, undefined);
      if (code === 0) t.fifoSeeded++;
      else if (code === 1 && /replaced by something other than a regular file/.test(stderr) && state === 'empty') t.fifoFailedCleanly++;
      else if (code !== null) t.failures.push(`fifo ${i} (${strategy}): exit ${code}, DEST ${state}: ${stderr.trim()}`);
      if (stagingOf(dest).length > 0) t.failures.push(`fifo ${i}: staging left`);
      rmSync(join(root, `fifo${i}`), { recursive: true, force: true });
    }
    log(`  attacks: ${rounds} FIFO swaps`);

    // 3. SIGTERM while walking.
    const wide = join(root, 'wide');
    mkdirSync(join(wide, 'real'), { recursive: true });
    for (let f = 0; f < 5000; f++) writeFileSync(join(wide, 'real', `f${f}`), '');
    for (let v = 0; v < 150; v++) symlinkSync('real', join(wide, `v${v}`));
    for (let i = 0; i < rounds; i++) {
      const dest = join(root, 'term', `dest${i}`);
      mkdirSync(dirname(dest), { recursive: true });
      const started = join(root, 'term', `started${i}`);
      const child = spawn(NODE, ['--', bundle, '--copy-seed', wide, dest, '--seed-min-mb', '0', '--', '/bin/sh', '-c', `touch ${started}`], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RULES_RUST_PROCESS_WRAPPER_DEBUG: '1' } });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const exited = new Promise((res) => child.on('exit', (code) => res(code)));
      while (!/seed worker/.test(stderr) && child.exitCode === null) await sleep(5);
      await sleep(rand(1500));
      const k = performance.now();
      child.kill('SIGTERM');
      const code = await exited;
      t.termMs.push(Math.round(performance.now() - k));
      if (code === 143) t.termExited143++;
      else t.failures.push(`term ${i}: exit ${code}`);
      if (lstatSync(started, { throwIfNoEntry: false })) t.failures.push(`term ${i}: the child started`);
      if (!['absent', 'empty'].includes(destState(dest, undefined))) t.failures.push(`term ${i}: DEST ${destState(dest, undefined)}`);
      if (stagingOf(dest).length > 0) t.failures.push(`term ${i}: staging left`);
    }
    t.termMs.sort((a, b) => a - b);
    log(`  attacks: SIGTERM to exit, ms: min ${t.termMs[0]} median ${t.termMs[Math.floor(t.termMs.length / 2)]} max ${t.termMs[t.termMs.length - 1]}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return t;
}

function parseArgs(argv) {
  const o = { parts: [], kills: Number(process.env.SOAK_KILLS ?? 200), runs: Number(process.env.SOAK_RUNS ?? 1000), requests: Number(process.env.SOAK_REQUESTS ?? 10_000), procs: Number(process.env.SOAK_PROCS ?? 8), attacks: Number(process.env.SOAK_ATTACKS ?? 20), bundle: DEFAULT_BUNDLE };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--kills' || a === '--runs' || a === '--requests' || a === '--procs' || a === '--attacks') o[a.slice(2)] = Number(argv[++i]);
    else if (a === '--bundle') o.bundle = resolve(argv[++i]);
    else if (['kills', 'concurrent', 'wrapper', 'worker', 'attacks'].includes(a)) o.parts.push(a);
    else throw new Error(`soak: unknown argument ${a}`);
  }
  if (o.parts.length === 0) o.parts = ['kills', 'concurrent', 'wrapper', 'worker', 'attacks'];
  return o;
}

async function cli() {
  const o = parseArgs(process.argv.slice(2));
  const log = (line) => process.stderr.write(`${line}\n`);
  const results = {};
  const t0 = Date.now();
  for (const part of o.parts) {
    const s = Date.now();
    log(`soak ${part}...`);
    if (part === 'kills') results.kills = await soakKills({ bundle: o.bundle, kills: o.kills, log });
    if (part === 'concurrent') results.concurrent = await soakConcurrent({ bundle: o.bundle, procs: o.procs });
    if (part === 'wrapper') results.wrapper = await soakWrapper({ bundle: o.bundle, runs: o.runs, log });
    if (part === 'worker') results.worker = await soakWorker({ bundle: o.bundle, requests: o.requests, log });
    if (part === 'attacks') results.attacks = await soakAttacks({ bundle: o.bundle, rounds: o.attacks, log });
    const r = results[part];
    const brief = Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'samples' && k !== 'failures' && k !== 'termMs'));
    log(`soak ${part}: ${r.failures.length === 0 ? 'OK' : `${r.failures.length} FAILURES`} in ${((Date.now() - s) / 1000).toFixed(1)} s ${JSON.stringify(brief)}`);
    if (r.quiescent) log(`  quiescent (request: RSS MB / fds): ${r.quiescent.map((x) => `${x.at}:${x.rssMb}/${x.fds}`).join(' ')}`);
    if (r.samples) log(`  samples (request: RSS MB / fds): ${r.samples.map((x) => `${x.at}:${x.rssMb}/${x.fds}`).join(' ')}`);
    for (const f of r.failures.slice(0, 10)) log(`  FAIL ${f}`);
  }
  const failed = Object.values(results).some((r) => r.failures.length > 0);
  process.stdout.write(`${JSON.stringify({ seconds: Math.round((Date.now() - t0) / 1000), failed, results })}\n`);
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await cli();
