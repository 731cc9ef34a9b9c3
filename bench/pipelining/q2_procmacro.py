#!/usr/bin/env python3
"""A crate reached by an edit only through a proc-macro (the issue's bottom edit: unicode-ident ->
syn -> serde_derive): `model`, 80 structs/enums deriving Serialize+Deserialize (serde_derive 1.0.152,
built by cargo in a probe project: /tmp/pl/pm), compiled rules_rust-style; serde_derive then rebuilt
after a one-line body edit (new .so, new crate hash, the same expansion). Metadata compile killed at
the rmeta and full compile, no flag vs warm from the full action's session. Rotating order, medians.
Usage: q2_procmacro.py ROUNDS -> JSON lines"""
import json, os, re, shlex, shutil, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rr

PM = '/tmp/pl/pm'
WS = f'{PM}/ws'
INC, SNAP = f'{PM}/inc', f'{PM}/snap'

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

def setup():
    cmd = [l for l in open(f'{PM}/cmds.txt') if '--crate-name serde_derive' in l][0]
    a = shlex.split(cmd)
    so = [f for f in os.listdir(f'{PM}/probe/target/debug/deps') if f.startswith('libserde_derive-') and f.endswith('.so')][0]
    for flavor in ('orig', 'edited'):
        d = f'{WS}/deps/{flavor}'
        shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
        shutil.copy(f'{rr.WS}/deps/plain/libserde{rr.HASH["serde"]}.rmeta', d)
        shutil.copy(f'{rr.WS}/deps/plain/libserde{rr.HASH["serde"]}.rlib', d)
    shutil.copy(f'{PM}/probe/target/debug/deps/{so}', f'{WS}/deps/orig/')
    src = f'{PM}/serde_derive_edited'
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree('/usr/share/cargo/registry/serde_derive-1.0.152', src)
    f = f'{src}/src/ser.rs'
    lines = open(f).read().split('\n')
    assert lines[67].startswith('fn precondition(cx: &Ctxt, cont: &Container) {')
    lines.insert(68, '    let _seedwrap_edit: u32 = 7;')
    open(f, 'w').write('\n'.join(lines))
    a = [x.replace('/usr/share/cargo/registry/serde_derive-1.0.152', src) for x in a]
    a[a.index('--out-dir') + 1] = f'{WS}/deps/edited'
    r = subprocess.run(a, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert os.path.exists(f'{WS}/deps/edited/{so}')
    return so

def argv(so, inc=None):
    a = [rr.RUSTC, 'model/src/lib.rs', '--crate-name=model', '--crate-type=rlib', '--error-format=json',
         '--json=artifacts', '--codegen=metadata=-77', '--codegen=extra-filename=-77', '--out-dir=out',
         '--codegen=opt-level=0', '--codegen=debuginfo=0', f'--remap-path-prefix={WS}=.',
         '--emit=dep-info,link,metadata', '--target=x86_64-unknown-linux-gnu', '--edition=2018',
         f'--extern=serde=deps/cur/libserde{rr.HASH["serde"]}.rmeta', f'--extern=serde_derive=deps/cur/{so}',
         '-Ldependency=deps/cur']
    return a + ([f'-Cincremental={inc}'] if inc else [])

def setdeps(flavor):
    cur = f'{WS}/deps/cur'
    if os.path.lexists(cur):
        os.unlink(cur)
    os.symlink(flavor, cur)

def fresh_out():
    shutil.rmtree(f'{WS}/out', ignore_errors=True); os.makedirs(f'{WS}/out')

VARIANTS = [  # name, deps, state, kill
    ('kill/noflag/pm-edit', 'edited', None, True),
    ('kill/warm-full/pm-edit', 'edited', 'full', True),
    ('kill/warm-full/no-change', 'orig', 'full', True),
    ('full/noflag/pm-edit', 'edited', None, False),
    ('full/warm-full/pm-edit', 'edited', 'full', False),
]

if __name__ == '__main__':
    rounds = int(sys.argv[1])
    gen_model(); so = setup()
    setdeps('orig'); fresh_out(); shutil.rmtree(INC, ignore_errors=True)
    r = rr.run(argv(so, INC), cwd=WS)
    assert r['rc'] == 0, r['stderr'][-3000:]
    shutil.rmtree(SNAP, ignore_errors=True); shutil.copytree(INC, SNAP)
    for i in range(rounds):
        k = i % len(VARIANTS); order = VARIANTS[k:] + VARIANTS[:k]
        for name, deps, state, kill in (order[::-1] if i % 2 else order):
            setdeps(deps); fresh_out(); shutil.rmtree(INC, ignore_errors=True)
            inc = None
            if state:
                shutil.copytree(SNAP, INC); inc = INC
            r = rr.run(argv(so, inc), kill_on_rmeta=kill, cwd=WS)
            print(json.dumps(dict(crate='model', variant=name, wall=r['wall'], rmeta=r['rmeta'], cpu_rmeta=r['cpu_rmeta'],
                                  cpu=r['cpu'], rc=r['rc'], ok=r['rmeta'] is not None and (kill or r['rc'] == 0),
                                  load=os.getloadavg()[0], t=time.strftime('%H:%M:%S'))), flush=True)
