#!/usr/bin/env python3
"""Question 6: the Bazel bottom edit replayed by hand. unicode-ident (body edit) -> proc-macro2, quote, syn,
serde_derive rebuilt (serde_derive's source unchanged, new crate hashes, same expansion) -> serde (feature
"derive": `#[macro_use] extern crate serde_derive; pub use serde_derive::*`, derives nothing itself) and
`model` (80 types deriving Serialize/Deserialize). Library: building the dependency sets and the target
crates' rules_rust-like command lines.

Layout (Q6 = $PM_Q6 or /tmp/pm-q6): ws/ is the stable cwd (execroot); ws/src/<crate-dir> the sources
(one path, the content changes as in a workspace); ws/deps/cur the dependency outputs the action sees
(files copied in for each run: same path, fresh mtime, as Bazel rewrites outputs); sets/A (original chain)
and sets/B (after the unicode-ident edit) keep each set's outputs."""
import os, shutil, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr

Q6 = os.environ.get('PM_Q6', '/tmp/pm-q6')
WS = f'{Q6}/ws'
REG = rr.REG
F = rr.feats
# name: (dir, edition, crate-type, flags, deps (name, kind: rmeta|rlib|so))
CH = {
    'unicode_ident': ('unicode-ident-1.0.0', '2018', 'rlib', [], []),
    'proc_macro2': ('proc-macro2-1.0.47', '2018', 'rlib', F('default', 'proc-macro') + ['--cfg=use_proc_macro', '--cfg=wrap_proc_macro'], [('unicode_ident', 'rmeta')]),
    'quote': ('quote-1.0.21', '2018', 'rlib', F('default', 'proc-macro'), [('proc_macro2', 'rmeta')]),
    'syn': ('syn-1.0.107', '2018', 'rlib', F('clone-impls', 'default', 'derive', 'parsing', 'printing', 'proc-macro', 'quote') + ['--cfg=syn_disable_nightly_tests'],
            [('proc_macro2', 'rmeta'), ('quote', 'rmeta'), ('unicode_ident', 'rmeta')]),
    'serde_derive': ('serde_derive-1.0.152', '2015', 'proc-macro', F('default') + ['--codegen=prefer-dynamic'],
                     [('proc_macro2', 'rlib'), ('quote', 'rlib'), ('syn', 'rlib')]),
    'serde': ('serde-1.0.152', '2015', 'rlib', F('default', 'derive', 'serde_derive', 'std'), [('serde_derive', 'so')]),
    'model': (None, '2018', 'rlib', [], [('serde', 'rmeta'), ('serde_derive', 'so')]),
}
CHAIN = ['unicode_ident', 'proc_macro2', 'quote', 'syn', 'serde_derive']
H = {c: '-' + str(sum((i + 1) * ord(ch) for i, ch in enumerate(c)) * 7919 % 10**10) for c in CH}
EDIT = ('unicode-ident-1.0.0', 'src/lib.rs', 'pub fn is_xid_start(ch: char) -> bool {', '    let _seedwrap_edit: u32 = 7;')

def out_name(c):
    return f'lib{c}{H[c]}.so' if CH[c][2] == 'proc-macro' else f'lib{c}{H[c]}.rlib'

def srcpath(c):
    return 'model/src/lib.rs' if c == 'model' else f'src/{CH[c][0]}/src/lib.rs'

def argv(c, out, inc=None, deps='deps/cur', emit=None, extra=()):
    d, ed, ty, flags, dl = CH[c]
    a = [rr.RUSTC, srcpath(c), f'--crate-name={c}', f'--crate-type={ty}', '--error-format=json', '--json=artifacts',
         f'--codegen=metadata={H[c]}', f'--codegen=extra-filename={H[c]}', f'--out-dir={out}',
         '--codegen=opt-level=0', '--codegen=debuginfo=0', f'--remap-path-prefix={WS}=.',
         f'--emit={emit or ("dep-info,link" if ty == "proc-macro" else "dep-info,link,metadata")}',
         '--target=x86_64-unknown-linux-gnu', f'--edition={ed}', '--cap-lints=warn'] + flags
    for dep, kind in dl:
        a.append(f'--extern={dep}={deps}/lib{dep}{H[dep]}.{kind if kind != "so" else "so"}')
    if ty == 'proc-macro':
        a.append('--extern=proc_macro')
    a.append(f'-Ldependency={deps}')
    if inc:
        a.append(f'-Cincremental={inc}')
    return a + list(extra)

def gen_model():
    os.makedirs(f'{WS}/model/src', exist_ok=True)
    out = ['use serde_derive::{Deserialize, Serialize};', 'use std::collections::BTreeMap;', '']
    for i in range(60):
        out.append(f'#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]\npub struct Rec{i} {{\n'
                   f'    pub id: u64,\n    pub name: String,\n    pub tags: Vec<String>,\n    pub score: Option<f64>,\n'
                   f'    #[serde(default)]\n    pub extra: BTreeMap<String, u32>,\n'
                   + (f'    pub prev: Option<Box<Rec{i - 1}>>,\n' if i else '') + '}\n')
        out.append(f'impl Rec{i} {{\n    pub fn weight(&self) -> u64 {{\n        self.id * {i + 1} + self.tags.len() as u64\n    }}\n}}\n')
    for i in range(20):
        out.append(f'#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]\n#[serde(tag = "kind")]\npub enum Ev{i} {{\n'
                   f'    A {{ x: u32 }},\n    B {{ s: String, r: Rec{i} }},\n    C {{ v: Vec<u8> }},\n}}\n')
    open(f'{WS}/model/src/lib.rs', 'w').write('\n'.join(out))

def set_edit(on):
    d, f, anchor, stmt = EDIT
    text = open(f'{REG}/{d}/{f}').read()
    if on:
        assert anchor in text
        text = text.replace(anchor, anchor + '\n' + stmt, 1)
    open(f'{WS}/src/{d}/{f}', 'w').write(text)

def install(files_from, dst=f'{WS}/deps/cur'):
    """copy a set's outputs into the action's dependency dir (same path, fresh mtime, like Bazel)."""
    shutil.rmtree(dst, ignore_errors=True); os.makedirs(dst)
    for f in os.listdir(files_from):
        shutil.copy(f'{files_from}/{f}', dst)  # copy: content only, new mtime

def build_sets():
    os.makedirs(f'{WS}/src', exist_ok=True)
    for c in CHAIN + ['serde']:
        dst = f'{WS}/src/{CH[c][0]}'
        if not os.path.isdir(dst):
            shutil.copytree(f'{REG}/{CH[c][0]}', dst)
    gen_model()
    for s, edit in (('A', False), ('B', True)):
        set_edit(edit)
        cur = f'{WS}/deps/cur'
        shutil.rmtree(cur, ignore_errors=True); os.makedirs(cur)
        for c in CHAIN + ['serde']:  # serde: plain full compile, for model's --extern
            r = rr.run(argv(c, 'deps/cur'), cwd=WS)
            assert r['rc'] == 0, (c, r['stderr'][-3000:])
            print(f'set {s} {c}: {r["cpu"]:.0f} ms CPU', file=sys.stderr)
        dst = f'{Q6}/sets/{s}'
        shutil.rmtree(dst, ignore_errors=True); os.makedirs(dst)
        for f in os.listdir(cur):
            if f.endswith(('.rlib', '.rmeta', '.so')):
                shutil.copy2(f'{cur}/{f}', dst)
    set_edit(False)

def build_derive_set(name, src_dir=None, edit_ser=False, lib_comment=None):
    """A set like A in which serde_derive (then serde) is rebuilt: from a copy of its source at another path
    (src_dir, relative to ws), or after q2's body edit in ser.rs (fn precondition) at the same path, or with a
    comment line added to its lib.rs at the 'top' (every #[proc_macro_derive] fn moves down a line) or 'end'."""
    d = CH['serde_derive'][0]
    cur = f'{WS}/deps/cur'
    install(f'{Q6}/sets/A')
    for f in os.listdir(cur):
        if f.startswith(('libserde_derive', 'libserde-')):
            os.unlink(f'{cur}/{f}')
    a = argv('serde_derive', 'deps/cur')
    if src_dir:
        shutil.rmtree(f'{WS}/{src_dir}', ignore_errors=True)
        shutil.copytree(f'{REG}/{d}', f'{WS}/{src_dir}/{d}')
        a[1] = f'{src_dir}/{d}/src/lib.rs'
    ser = f'{WS}/src/{d}/src/ser.rs'
    text = open(f'{REG}/{d}/src/ser.rs').read()
    if edit_ser:
        anchor = 'fn precondition(cx: &Ctxt, cont: &Container) {'
        assert anchor in text
        text = text.replace(anchor, anchor + '\n    let _seedwrap_edit: u32 = 7;', 1)
    open(ser, 'w').write(text)
    lib = f'{WS}/src/{d}/src/lib.rs'
    ltext = open(f'{REG}/{d}/src/lib.rs').read()
    if lib_comment == 'top':
        ltext = '// seedwrap comment edit\n' + ltext
    elif lib_comment == 'end':
        ltext = ltext + '\n// seedwrap comment edit\n'
    open(lib, 'w').write(ltext)
    try:
        for c, args in (('serde_derive', a), ('serde', argv('serde', 'deps/cur'))):
            r = rr.run(args, cwd=WS)
            assert r['rc'] == 0, (c, r['stderr'][-3000:])
    finally:
        open(ser, 'w').write(open(f'{REG}/{d}/src/ser.rs').read())
        open(lib, 'w').write(open(f'{REG}/{d}/src/lib.rs').read())
    dst = f'{Q6}/sets/{name}'
    shutil.rmtree(dst, ignore_errors=True); os.makedirs(dst)
    for f in os.listdir(cur):
        if f.endswith(('.rlib', '.rmeta', '.so')):
            shutil.copy2(f'{cur}/{f}', dst)

def svh(path):
    env = dict(os.environ, RUSTC_BOOTSTRAP='1')
    r = subprocess.run([rr.RUSTC, '-Zls=root', path], capture_output=True, text=True, env=env)
    for l in r.stdout.splitlines():
        if l.startswith('hash'):
            return l.split()[1]
    return r.stdout[:200] + r.stderr[:200]

if __name__ == '__main__':
    build_sets()
    build_derive_set('P', src_dir='src-other')  # serde_derive byte-identical source at another path
    build_derive_set('E', edit_ser=True)       # q2's edit: serde_derive's own body edit, same path
    build_derive_set('T', lib_comment='top')   # lib.rs: a comment line at the top (derive fns' spans move)
    build_derive_set('N', lib_comment='end')   # lib.rs: a comment line at the end (no span moves)
    for s in 'ABPETN':
        for c in CHAIN + ['serde']:
            p = f'{Q6}/sets/{s}/{out_name(c)}'
            if not os.path.exists(p): continue
            print(s, c, svh(p), subprocess.run(['sha256sum', p], capture_output=True, text=True).stdout[:12])
