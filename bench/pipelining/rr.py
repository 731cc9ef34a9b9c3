#!/usr/bin/env python3
"""Replay rules_rust-shaped rustc compiles of real crates, by hand.

Library: crate definitions, a rustc runner that kills rustc on the metadata
artifact line exactly like rules_rust's process_wrapper (--rustc-quit-on-rmeta:
SIGKILL as soon as {"artifact":"...rmeta","emit":"metadata"} is read on stderr),
and the wall / time-to-rmeta / CPU (wait4 rusage, rustc and its children) of each run.
"""
import json, os, shutil, signal, subprocess, sys, time

RUSTC = os.path.expanduser('~/.cargo/bin/rustc')
REG = '/usr/share/cargo/registry'
WS = os.environ.get('PL_WS', '/tmp/pl/ws')  # the stable cwd (like an execroot)

def feats(*fs):
    return [f'--cfg=feature="{f}"' for f in fs]

RS_FEATS = feats('default', 'unicode', 'unicode-age', 'unicode-bool', 'unicode-case',
                 'unicode-gencat', 'unicode-perl', 'unicode-script', 'unicode-segment')
CRATES = {
    # name: (dir, edition, flags, deps)
    'memchr': ('memchr-2.5.0', '2018', feats('default', 'std') + ['--cfg=memchr_runtime_simd', '--cfg=memchr_runtime_sse2', '--cfg=memchr_runtime_sse42', '--cfg=memchr_runtime_avx'], []),
    'aho_corasick': ('aho-corasick-0.7.19', '2018', feats('default', 'std'), ['memchr']),
    'itoa': ('itoa-1.0.1', '2018', [], []),
    'ryu': ('ryu-1.0.2', '2015', ['--cfg=integer128', '--cfg=must_use_return', '--cfg=maybe_uninit'], []),
    'serde': ('serde-1.0.152', '2015', feats('default', 'std'), []),
    'serde_json': ('serde_json-1.0.87', '2018', feats('default', 'std') + ['--cfg=limb_width_64'], ['itoa', 'ryu', 'serde']),
    'regex_syntax': ('regex-syntax-0.6.27', '2018', RS_FEATS, []),
    'regex': ('regex-1.7.1', '2018', feats('aho-corasick', 'default', 'memchr', 'perf', 'perf-cache', 'perf-dfa', 'perf-inline', 'perf-literal', 'std') + RS_FEATS[1:], ['aho_corasick', 'memchr', 'regex_syntax']),
}
# one-line body edit: a statement inserted after this line (a non-generic fn)
BODY_EDIT = {
    'serde': ('src/de/mod.rs', 397),          # impl Display for Unexpected: fn fmt
    'serde_json': ('src/error.rs', 51),       # Error::classify
    'regex': ('src/exec.rs', 135),            # ExecBuilder::new
    'regex_syntax': ('src/parser.rs', 189),   # Parser::new
}
HASH = {c: f'-{abs(hash(c)) % 10**9}' for c in CRATES}  # replaced below by a stable value
for c in CRATES:
    HASH[c] = '-' + str(sum((i + 1) * ord(ch) for i, ch in enumerate(c)) * 7919 % 10**10)

def src_dir(c):
    return os.path.join('src', CRATES[c][0])

def ensure_sources():
    os.makedirs(os.path.join(WS, 'src'), exist_ok=True)
    for c, (d, *_rest) in CRATES.items():
        dst = os.path.join(WS, 'src', d)
        if not os.path.isdir(dst):
            shutil.copytree(os.path.join(REG, d), dst)

def set_source(c, variant):
    """variant: 'orig' | 'body' | 'comment' (rewrites the crate's files from the registry copy)."""
    d = os.path.join(WS, src_dir(c))
    f, line = BODY_EDIT[c]
    orig = open(os.path.join(REG, CRATES[c][0], f)).read().split('\n')
    body = list(orig)
    if variant == 'body':
        body.insert(line, '        let _seedwrap_edit: u32 = 7;')
    open(os.path.join(d, f), 'w').write('\n'.join(body))
    lib = open(os.path.join(REG, CRATES[c][0], 'src/lib.rs')).read()
    if variant == 'comment':
        lib = '// seedwrap comment edit\n' + lib
    open(os.path.join(d, 'src/lib.rs'), 'w').write(lib)

def argv(c, inc=None, emit='dep-info,link,metadata', dep_flavor='plain', extra=(), out=None):
    d, ed, flags, deps = CRATES[c]
    out = out or f'out/{c}'
    a = [RUSTC, f'{src_dir(c)}/src/lib.rs', f'--crate-name={c}', '--crate-type=rlib',
         '--error-format=json', '--json=artifacts',
         f'--codegen=metadata={HASH[c]}', f'--codegen=extra-filename={HASH[c]}',
         f'--out-dir={out}', '--codegen=opt-level=0', '--codegen=debuginfo=0',
         f'--remap-path-prefix={WS}=.', f'--emit={emit}', '--target=x86_64-unknown-linux-gnu',
         f'--edition={ed}', '--cap-lints=warn'] + flags
    for dep in deps:
        a.append(f'--extern={dep}=deps/{dep_flavor}/lib{dep}{HASH[dep]}.rmeta')
    a.append(f'-Ldependency=deps/{dep_flavor}')
    if inc:
        a.append(f'-Cincremental={inc}')
    return a + list(extra)

TICK = os.sysconf('SC_CLK_TCK')

def proc_cpu_ms(pid):
    """user+sys of a live process (all its threads), from /proc (10 ms resolution)."""
    try:
        f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
        return (int(f[11]) + int(f[12])) * 1000 / TICK
    except (OSError, IndexError, ValueError):
        return None

def run(a, kill_on_rmeta=False, env=None, cwd=None):
    """Run rustc; returns dict(wall, rmeta (ms to the metadata artifact line or None), cpu, rc, stderr)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(a, cwd=cwd or WS, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=env, text=True, bufsize=1)
    t_rmeta = None
    cpu_rmeta = None
    lines = []
    for line in p.stderr:
        lines.append(line)
        if t_rmeta is None and line.startswith('{') and '"emit":"metadata"' in line:
            try:
                j = json.loads(line)
            except ValueError:
                j = {}
            if j.get('emit') == 'metadata':
                t_rmeta = (time.perf_counter() - t0) * 1000
                cpu_rmeta = proc_cpu_ms(p.pid)
                if kill_on_rmeta:
                    p.kill()  # SIGKILL, as process_wrapper / seedwrap do
                    break
    p.stderr.close()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = (time.perf_counter() - t0) * 1000
    return dict(wall=wall, rmeta=t_rmeta, cpu_rmeta=cpu_rmeta, cpu=(ru.ru_utime + ru.ru_stime) * 1000,
                rc=p.returncode, stderr=''.join(lines))

def build_deps(flavor='plain'):
    """Dependencies as rules_rust builds them (full compiles); flavor 'inc' adds -Cincremental."""
    ensure_sources()
    os.makedirs(os.path.join(WS, 'deps', flavor), exist_ok=True)
    for c in ['memchr', 'aho_corasick', 'itoa', 'ryu', 'serde', 'regex_syntax']:
        set_source(c, 'orig') if c in BODY_EDIT else None
        inc = f'/tmp/pl/depinc/{flavor}' if flavor == 'inc' else None
        r = run(argv(c, inc=inc, dep_flavor=flavor, out=f'deps/{flavor}'))
        assert r['rc'] == 0, r['stderr'][-3000:]
        print(f'dep {flavor} {c}: {r["wall"]:.0f} ms', file=sys.stderr)

if __name__ == '__main__':
    build_deps(sys.argv[1] if len(sys.argv) > 1 else 'plain')
