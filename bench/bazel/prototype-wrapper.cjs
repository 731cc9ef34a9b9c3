#!/usr/bin/env node
'use strict';
// Measurement prototype, NOT the product: the smallest process_wrapper subset
// the example workspace uses (--subst, --copy-seed, --seed-prev-dir,
// --seed-min-mb, --exit-early, --write-unused-inputs) plus the proposed
// --stable-cwd flag, so that docs/bazel.md's strategy table could be measured
// before seedwrap's bundle had the flag. seedwrap (src/) is the real thing.
//
// --stable-cwd true: when the cwd is a sandbox execroot
// (<output_base>/sandbox/<strategy>/<N>/execroot/<ws>), run the child in a
// private mount namespace where a tmpfs hides <output_base>/sandbox and the
// sandbox execroot is bind-mounted at <output_base>/sandbox/stable/execroot/<ws>,
// which becomes the child's cwd and ${pwd}. The child sees exactly the
// sandbox's files (hermetic) and writes into the sandbox (Bazel collects the
// outputs as usual); only the absolute path of its cwd is stable.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync, spawn } = require('node:child_process');

function parse(argv) {
  const o = { subst: [], childArgs: [] };
  let i = 0;
  const take = () => argv[++i];
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { o.childArgs = argv.slice(i + 1); break; }
    if (a === '--subst') o.subst.push(take());
    else if (a === '--copy-seed') o.copySeed = [take(), take()];
    else if (a === '--seed-prev-dir') o.prevDir = [take(), take()];
    else if (a === '--seed-min-mb') o.minMb = Number(take());
    else if (a === '--exit-early') o.exitEarly = take() === 'true';
    else if (a === '--write-unused-inputs') o.unused = [take(), take()];
    else if (a === '--stable-cwd') o.stableCwd = take() === 'true';
    else if (a === '--rustc-quit-on-rmeta') o.quitOnRmeta = take() === 'true';
    else if (a === '--rustc-output-format') o.format = take();
    else throw new Error(`prototype: unknown flag ${a}`);
  }
  return o;
}

function treeBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const st = fs.statSync(p);
    n += st.isDirectory() ? treeBytes(p) : st.size;
  }
  return n;
}

// The newest finished session of each crate directory, materialised writable:
// fresh lock files, *.o copied (rustc insists on writable work products),
// everything else hard-linked, or copied where links cross a mount (EXDEV).
function materialise(src, dest) {
  fs.mkdirSync(dest, { recursive: true });
  for (const crate of fs.readdirSync(src)) {
    const sessions = fs.readdirSync(path.join(src, crate))
      .filter((s) => s.startsWith('s-') && !s.endsWith('.lock') && !s.endsWith('-working'))
      .sort();
    const newest = sessions[sessions.length - 1];
    if (!newest) continue;
    const from = path.join(src, crate, newest);
    const to = path.join(dest, crate, newest);
    fs.mkdirSync(to, { recursive: true });
    for (const f of fs.readdirSync(from)) {
      const real = fs.realpathSync(path.join(from, f));
      const target = path.join(to, f);
      if (f.endsWith('.o')) { fs.copyFileSync(real, target); fs.chmodSync(target, 0o644); continue; }
      try { fs.linkSync(real, target); } catch (e) {
        if (e.code !== 'EXDEV') throw e;
        fs.copyFileSync(real, target);
      }
    }
    // s-<time>-<random>-<svh> locks as s-<time>-<random>.lock
    const lock = newest.split('-').slice(0, 3).join('-') + '.lock';
    fs.writeFileSync(path.join(dest, crate, lock), '');
  }
}

function seed(src, dest, minMb) {
  try {
    if (!fs.existsSync(src)) return;
    if (treeBytes(src) < minMb * 1048576) return;
    materialise(src, dest);
  } catch (e) {
    process.stderr.write(`seedwrap prototype: seeding ${dest} failed, starting cold: ${e.message}\n`);
    fs.rmSync(dest, { recursive: true, force: true });
  } finally {
    fs.mkdirSync(dest, { recursive: true });
  }
}

const SANDBOX = /^(.*)\/sandbox\/[^/]+\/\d+\/execroot\/([^/]+)$/;

function stableCwd(cwd) {
  const m = SANDBOX.exec(cwd);
  if (!m) return null;
  const probe = spawnSync('/usr/bin/unshare', nsFlags().concat(['/bin/true']), { stdio: 'ignore' });
  if (probe.status !== 0) {
    process.stderr.write('seedwrap prototype: no mount namespace, rustc runs in the sandbox directory\n');
    return null;
  }
  return { base: `${m[1]}/sandbox`, stable: `${m[1]}/sandbox/stable/execroot/${m[2]}` };
}

function nsFlags() {
  // Unprivileged users need a user namespace to own the mount namespace.
  const user = process.getuid() === 0 ? [] : ['--user', '--map-root-user'];
  return user.concat(['--mount', '--propagation', 'private']);
}

const SETUP = 'mount -t tmpfs seedwrap "$1" && mkdir -p "$2" && mount -c --bind . "$2" && cd "$2" && shift 2 && exec "$@"';

function main() {
  const o = parse(process.argv.slice(2));
  if (o.copySeed) seed(o.copySeed[0], o.copySeed[1], 0);
  if (o.prevDir) seed(o.prevDir[0], o.prevDir[1], o.minMb ?? 20);
  if (o.exitEarly) return 0;
  const cwd = process.cwd();
  const ns = o.stableCwd ? stableCwd(cwd) : null;
  const pwd = ns ? ns.stable : cwd;
  const map = o.subst.map((kv) => {
    const [k, ...v] = kv.split('=');
    return [k, v.join('=') === '${pwd}' ? pwd : v.join('=')];
  });
  const sub = (s) => map.reduce((acc, [k, v]) => acc.split('${' + k + '}').join(v), s);
  const args = o.childArgs.map(sub);
  const [cmd, rest] = ns
    ? ['/usr/bin/unshare', nsFlags().concat(['/bin/sh', '-c', SETUP, 'sh', ns.base, ns.stable], args)]
    : [args[0], args.slice(1)];
  const child = spawn(cmd, rest, { stdio: ['inherit', 'inherit', o.format ? 'pipe' : 'inherit'] });
  let killed = false;
  if (o.format) {
    // --error-format=json --json=artifacts: render diagnostics, drop artifact
    // notices, and (pipelining) kill rustc once the rmeta is written.
    let buf = '';
    child.stderr.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg;
        try { msg = JSON.parse(line); } catch { process.stderr.write(line + '\n'); continue; }
        if (typeof msg.emit === 'string') {
          if (o.quitOnRmeta && msg.emit === 'metadata' && !killed) { killed = true; child.kill('SIGKILL'); }
        } else if (typeof msg.rendered === 'string') process.stderr.write(msg.rendered);
      }
    });
  }
  child.on('close', (code) => {
    if (killed) code = 0;
    if (code === 0 && o.unused) fs.writeFileSync(o.unused[0], o.unused[1] + '\n');
    process.exitCode = code ?? 1;
  });
  return undefined;
}

const code = main();
if (code !== undefined) process.exitCode = code;
