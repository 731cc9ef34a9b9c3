#!/usr/bin/env python3
"""Question 4: what the crate hash (SVH) of serde_json's rmeta depends on, and E0460 when mixing.
Each variant compiles serde_json (rules_rust's command, killed at the rmeta unless noted) into its
own out dir and reads the SVH with `rustc -Zls=root` (RUSTC_BOOTSTRAP=1 for the reader only)."""
import json, os, re, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr

C = 'serde_json'
SVHD = os.environ.get('PL_SVH', '/tmp/pl/svh')
ENV_BOOT = dict(os.environ, RUSTC_BOOTSTRAP='1')

def svh(path):
    out = subprocess.run([rr.RUSTC, '-Zls=root', path], env=ENV_BOOT, capture_output=True, text=True).stdout
    return re.search(r'^hash (\w+)', out, re.M).group(1)

def sha(path):
    return subprocess.run(['sha256sum', path], capture_output=True, text=True).stdout.split()[0][:12]

def compile_(tag, inc=None, extra=(), kill=True, env=None, emit='dep-info,link,metadata', fresh_inc=True):
    out = f'{SVHD}/out/{tag}'
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    if inc and fresh_inc:
        shutil.rmtree(inc, ignore_errors=True)
    a = rr.argv(C, inc=inc, extra=extra, emit=emit, out=out)
    r = rr.run(a, kill_on_rmeta=kill, env=env)
    rmeta = f'{out}/lib{C}{rr.HASH[C]}.rmeta'
    ok = os.path.exists(rmeta) and (kill or r['rc'] == 0)
    if not ok:
        print(tag, r['rc'], r['stderr'][-1500:], file=sys.stderr)
        return dict(variant=tag, ok=False)
    return dict(variant=tag, svh=svh(rmeta), rmeta_sha=sha(rmeta), ok=True,
                cmd=' '.join(a[1:]).replace(rr.WS, '$WS'), env='RUSTC_BOOTSTRAP=1' if env else '')

def main():
    rr.set_source(C, 'orig')
    for s in ('plain',):
        cur = f'{rr.WS}/deps/cur'
        if os.path.lexists(cur):
            os.unlink(cur)
        os.symlink(s, cur)
    res = []
    res.append(compile_('noflag'))
    res.append(compile_('noflag-again'))
    res.append(compile_('noflag-full', kill=False))
    res.append(compile_('noflag-emit-metadata', emit='dep-info,metadata', kill=False))
    res.append(compile_('noflag-RUSTC_BOOTSTRAP', env=ENV_BOOT))
    res.append(compile_('inc-ext4-A', inc=SVHD + '/incA'))
    res.append(compile_('inc-ext4-B-other-path', inc=SVHD + '/other/path/incB'))
    res.append(compile_('inc-tmpfs', inc='/dev/shm/pl-svh-inc'))
    res.append(compile_('inc-full-cold', inc=SVHD + '/incA', kill=False))
    res.append(compile_('inc-full-warm(dep-graph present)', inc=SVHD + '/incA', kill=False, fresh_inc=False))
    res.append(compile_('inc-kill-warm(dep-graph present)', inc=SVHD + '/incA', fresh_inc=False))
    res.append(compile_('inc-emit-metadata', inc=SVHD + '/incC', emit='dep-info,metadata', kill=False))
    res.append(compile_('inc-RUSTC_BOOTSTRAP', inc=SVHD + '/incD', env=ENV_BOOT))
    res.append(compile_('inc-RUSTC_BOOTSTRAP-full', inc=SVHD + '/incD2', env=ENV_BOOT, kill=False))
    res.append(compile_('inc+-Zincremental-ignore-spans', inc=SVHD + '/incE', extra=['-Zincremental-ignore-spans'], env=ENV_BOOT))
    res.append(compile_('noflag+-Zincremental-ignore-spans', extra=['-Zincremental-ignore-spans'], env=ENV_BOOT))
    res.append(compile_('noflag+-Zno-codegen', extra=['-Zno-codegen'], env=ENV_BOOT, kill=False))
    res.append(compile_('inc+-Zno-codegen', inc=SVHD + '/incF', extra=['-Zno-codegen'], env=ENV_BOOT, kill=False))
    res.append(compile_('noflag+-Zquery-dep-graph', extra=['-Zquery-dep-graph'], env=ENV_BOOT))
    res.append(compile_('noflag+-Zincremental-verify-ich', extra=['-Zincremental-verify-ich'], env=ENV_BOOT))
    for r in res:
        print(json.dumps(r), flush=True)


def e0460(meta_tag, rlib_tag):
    """A dependent (`user`) compiled against serde_json's rmeta from META_TAG, a binary linked
    against serde_json's rlib from RLIB_TAG (as rules_rust does: rmeta for compiles, rlib for links)."""
    d = f'{SVHD}/e0460/{meta_tag}--{rlib_tag}'
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    open(f'{d}/user.rs', 'w').write('pub fn f() -> String { serde_json::to_string(&[1u32, 2]).unwrap() }\n')
    open(f'{d}/main.rs', 'w').write('fn main() { println!("{}", user::f()); }\n')
    A, B = f'{SVHD}/out/{meta_tag}', f'{SVHD}/out/{rlib_tag}'
    u = subprocess.run([rr.RUSTC, f'{d}/user.rs', '--crate-type=rlib', '--crate-name=user', '--edition=2018',
                        f'--out-dir={d}', f'--extern=serde_json={A}/libserde_json{rr.HASH[C]}.rmeta',
                        f'-Ldependency={rr.WS}/deps/plain'], capture_output=True, text=True)
    if u.returncode != 0:
        e = re.search(r'error[^\n]*', u.stderr)
        return dict(rmeta_from=meta_tag, rlib_from=rlib_tag, dependent_compile_rc=u.returncode,
                    error=e.group(0) if e else u.stderr[:300], ran='')
    m = subprocess.run([rr.RUSTC, f'{d}/main.rs', '--crate-type=bin', '--crate-name=main', '--edition=2018',
                        f'--out-dir={d}', f'--extern=user={d}/libuser.rlib', f'-Ldependency={B}',
                        f'-Ldependency={rr.WS}/deps/plain'], capture_output=True, text=True)
    run = subprocess.run([f'{d}/main'], capture_output=True, text=True).stdout.strip() if m.returncode == 0 else ''
    err = re.search(r'error\[E\d+\][^\n]*', m.stderr)
    return dict(rmeta_from=meta_tag, rlib_from=rlib_tag, link_rc=m.returncode,
                error=err.group(0) if err else '', ran=run)

if __name__ == '__main__':
    main()
    for a, b in [('noflag', 'inc-full-cold'), ('inc-ext4-B-other-path', 'inc-full-cold'),
                 ('inc-tmpfs', 'inc-full-warm(dep-graph present)'), ('noflag', 'noflag-full'),
                 ('inc+-Zincremental-ignore-spans', 'inc-full-cold'), ('inc+-Zno-codegen', 'inc-full-cold'),
                 ('inc+-Zno-codegen', 'inc-RUSTC_BOOTSTRAP-full'), ('noflag-emit-metadata', 'noflag-full'),
                 ('inc-RUSTC_BOOTSTRAP', 'inc-full-cold')]:
        print(json.dumps(e0460(a, b)), flush=True)
