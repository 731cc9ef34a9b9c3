"""Small Rust rules that drive rustc through seedwrap the way rules_rust does
with PR #3925 (incremental-cache seeding). Written for Bazel 4.2.3, offline.

Per main-workspace crate in a non-opt build, with //rust:seed on:

  RustcIncrSeed          seedwrap --seed-prev-dir <previous incr tree> <seed>
                           --seed-min-mb N --exit-early true -- <rustc argv>
  RustcMetadataIncrSeed  the same for the metadata action's own tree
  RustcMetadata          seedwrap --copy-seed <meta seed> <meta incr>
                           --write-unused-inputs <list> <meta seed>
                           --seed-min-mb 0 --rustc-quit-on-rmeta true ...
                           [--stable-cwd true] -- rustc ...
                           --emit=metadata=<rmeta>,link=<never finished>
                           -Cincremental=<meta incr>
  Rustc                  seedwrap --copy-seed <seed> <incr>
                           --write-unused-inputs <list> <seed> --seed-min-mb 0
                           [--stable-cwd true] -- rustc ...
                           --emit=metadata=<rmeta>,link=<rlib> -Cincremental=<incr>

Seeded compiles pass seedwrap's --stable-cwd true (//rust:stable_cwd): inside
a sandbox seedwrap runs rustc from a bind mount of the sandbox at a path that
is the same on every build, so ${pwd} (and rustc's cwd, which it hashes into
the session) no longer changes with the sandbox's number.

A seed action carries the compile action's whole rustc command line and inputs
(it exits before running rustc), so it re-runs exactly when its compile action
would, and never on a no-op build. It reads the previous tree from the real
execroot, outside its declared inputs, so it must run unsandboxed and must
never be cached. The compile action lists the seed as an unused input: a change
to the seed alone (a different threshold, say) does not re-run the compile.

With //rust:worker, RustcMetadata and Rustc take `--subst pwd=${pwd}` as
startup arguments and the rest in an @flagfile (multiline), and declare
supports-workers / supports-multiplex-workers: --strategy=Rustc=worker runs
them in seedwrap's persistent worker, in the real execroot (a stable cwd, so
seeds are reused there without --stable-cwd's namespace).

Crates of external repositories (crate_universe's @crate_index) and opt builds
are compiled without -Cincremental and are never seeded, as in PR #3925.
"""

load(":rules_rust_main.bzl", "build_script_outputs", "compile_like_rules_rust_main")
load(":settings.bzl", "SettingInfo")

RustCrateInfo = provider(
    doc = "A compiled Rust library crate.",
    fields = {
        "name": "crate name",
        "rlib": "File: the full library",
        "rmeta": "File: metadata from the pipelined RustcMetadata action",
        "transitive_rlibs": "depset of rlibs of this crate and its deps",
        "transitive_rmetas": "depset of rmetas of this crate and its deps",
    },
)

# The seed action reads a path outside its inputs: it must see the real
# execroot and its result must never be reused from any cache.
_SEED_REQUIREMENTS = {"no-sandbox": "1", "no-cache": "1", "no-remote": "1"}

# //rust:worker: Rustc and RustcMetadata actions may run in a persistent
# seedwrap worker (--strategy=Rustc=worker --strategy=RustcMetadata=worker);
# Bazel 4.2.3 uses a multiplex worker when both are present.
_WORKER_REQUIREMENTS = {"supports-workers": "1", "supports-multiplex-workers": "1"}

def _setting(ctx, name):
    return getattr(ctx.attr, "_" + name)[SettingInfo].value

def _rules_rust_main(ctx):
    flavor = _setting(ctx, "flavor")
    if flavor not in ("pr3925", "rules_rust_main"):
        fail("--//rust:flavor=%s: expected pr3925 or rules_rust_main" % flavor)
    return flavor == "rules_rust_main"

def _seeded(ctx):
    return (
        not _rules_rust_main(ctx) and
        _setting(ctx, "seed") and
        ctx.label.workspace_root == "" and
        ctx.var["COMPILATION_MODE"] != "opt"
    )

def _mode_flags(ctx):
    mode = ctx.var["COMPILATION_MODE"]
    if mode == "opt":
        return ["-Copt-level=3"]
    if mode == "dbg":
        return ["-Copt-level=0", "-Cdebuginfo=2"]
    return ["-Copt-level=0"]

def _crate_name(ctx):
    return ctx.attr.crate_name or ctx.label.name.replace("-", "_")

def _rustc_args(ctx, crate_name, crate_type, deps, link_deps):
    """The rustc argv shared by a crate's actions (minus --emit/-Cincremental)."""
    args = [
        ctx.file.crate_root.path,
        "--crate-name=" + crate_name,
        "--crate-type=" + crate_type,
        "--edition=" + ctx.attr.edition,
        # Unique per target, stable across builds (rules_rust hashes the label).
        "-Cmetadata=" + str(hash(str(ctx.label))),
        "--cap-lints=" + ("allow" if ctx.label.workspace_root else "warn"),
    ] + _mode_flags(ctx)
    args += ['--cfg=feature="%s"' % f for f in ctx.attr.crate_features]
    if not _rules_rust_main(ctx):
        # rules_rust_main: they come from the build script's flags file.
        args += ["--cfg=" + c for c in ctx.attr.cfgs]
    dirs = {}
    for dep in deps:
        info = dep[RustCrateInfo]
        direct = info.rlib if link_deps else info.rmeta
        args.append("--extern=%s=%s" % (info.name, direct.path))
        files = info.transitive_rlibs if link_deps else info.transitive_rmetas
        for f in files.to_list():
            dirs[f.dirname] = True
    args += ["-Ldependency=" + d for d in sorted(dirs.keys())]
    return args + ctx.attr.rustc_flags

def _rustc_env(ctx):
    # rustc links binaries with `cc`, which finds `ld` on PATH; a cc toolchain
    # would provide both in rules_rust.
    env = {"PATH": "/usr/bin:/bin"}
    for pair in _setting(ctx, "rustc_env"):
        key, _, value = pair.partition("=")
        env[key] = value
    return env

def _compile(ctx, mnemonic, rustc_args, emit_flag, outputs, inputs, seeded, extra_wrapper_flags = [], build_script = None):
    """Registers one rustc action (and its seed action when seeded)."""
    wrapper = ctx.file._process_wrapper
    rustc = _setting(ctx, "rustc")
    env = _rustc_env(ctx)
    if _rules_rust_main(ctx):
        extra = _setting(ctx, "rules_rust_extra_rustc_flags")
        if mnemonic == "Rustc" and ctx.label.workspace_root == "":
            extra = extra + _setting(ctx, "extra_rustc_flags")
        compile_like_rules_rust_main(
            ctx,
            mnemonic,
            wrapper,
            [rustc],
            rustc_args,
            emit_flag,
            outputs,
            inputs,
            env,
            extra_wrapper_flags,
            build_script,
            extra,
            _setting(ctx, "worker"),
            _setting(ctx, "worker_startup_flags"),
        )
        return

    # The same for every action: a worker's startup arguments with
    # //rust:worker (they are part of the worker's key, so nothing per-action).
    common_flags = ["--subst", "pwd=${pwd}"]
    wrapper_flags = extra_wrapper_flags
    if mnemonic == "Rustc" and ctx.label.workspace_root == "":
        # Test hook; only for full compiles, whose rustc runs to the end.
        rustc_args = rustc_args + _setting(ctx, "extra_rustc_flags")
    if seeded and _setting(ctx, "stable_cwd"):
        wrapper_flags = wrapper_flags + ["--stable-cwd", "true"]

    # rules_rust strips the working directory from paths in outputs. The value
    # is seedwrap's ${pwd}: a sandbox's changing directory unless --stable-cwd
    # makes it stable (a changing one changes rustc's command line, and rustc
    # then discards its seed).
    program = [rustc]
    rustc_args = rustc_args + ["--remap-path-prefix=${pwd}="]
    outputs = list(outputs)
    incr_flags = []
    seed_flags = []
    compile_inputs = inputs
    unused = None
    if seeded:
        stem = "%s_%s" % (ctx.label.name, mnemonic.lower())
        incr = ctx.actions.declare_directory(stem + "_incr")
        seed = ctx.actions.declare_directory(stem + "_incr_seed")
        unused = ctx.actions.declare_file(stem + ".unused_inputs")
        incr_flags = ["-Cincremental=" + incr.path]
        child = program + rustc_args + [emit_flag] + incr_flags
        ctx.actions.run(
            mnemonic = "RustcIncrSeed" if mnemonic == "Rustc" else "RustcMetadataIncrSeed",
            progress_message = "Seeding %s %s" % (mnemonic, ctx.label),
            executable = wrapper,
            arguments = [
                "--seed-prev-dir",
                incr.path,
                seed.path,
                "--seed-min-mb",
                str(_setting(ctx, "seed_min_mb")),
                "--exit-early",
                "true",
            ] + common_flags + wrapper_flags + ["--"] + child,
            inputs = inputs,
            outputs = [seed],
            env = env,
            execution_requirements = _SEED_REQUIREMENTS,
        )
        seed_flags = [
            "--copy-seed",
            seed.path,
            incr.path,
            "--write-unused-inputs",
            unused.path,
            seed.path,
            # The seed action already applied the threshold (a skipped seed is
            # an empty tree); the compile's own command line must not depend
            # on it, or a new threshold would re-run every compile.
            "--seed-min-mb",
            "0",
        ]
        outputs += [incr, unused]
        compile_inputs = depset([seed], transitive = [inputs])
    request = seed_flags + wrapper_flags + ["--"] + program + rustc_args + [emit_flag] + incr_flags
    if _setting(ctx, "worker"):
        # A persistent worker (multiplex when Bazel allows it): the startup
        # arguments, then a flagfile whose lines Bazel sends as the
        # WorkRequest's arguments. Run one-shot instead (--strategy=Rustc=local
        # or sandboxed), seedwrap inlines the flagfile itself.
        flagfile = ctx.actions.args()
        flagfile.use_param_file("@%s", use_always = True)
        flagfile.set_param_file_format("multiline")
        flagfile.add_all(request)
        arguments = common_flags + [flagfile]
        requirements = _WORKER_REQUIREMENTS
    else:
        arguments = seed_flags + common_flags + wrapper_flags + ["--"] + program + rustc_args + [emit_flag] + incr_flags
        requirements = None
    ctx.actions.run(
        mnemonic = mnemonic,
        progress_message = "Compiling %s (%s)" % (ctx.label, mnemonic),
        executable = wrapper,
        arguments = arguments,
        inputs = compile_inputs,
        outputs = outputs,
        env = env,
        unused_inputs_list = unused,
        execution_requirements = requirements,
    )

def _inputs(ctx, deps, link_deps):
    transitive = [
        d[RustCrateInfo].transitive_rlibs if link_deps else d[RustCrateInfo].transitive_rmetas
        for d in deps
    ]
    return depset(ctx.files.srcs + [ctx.file.crate_root], transitive = transitive)

def _build_script(ctx):
    return build_script_outputs(ctx) if _rules_rust_main(ctx) else None

def _rust_library_impl(ctx):
    name = _crate_name(ctx)
    seeded = _seeded(ctx)
    build_script = _build_script(ctx)
    rlib = ctx.actions.declare_file("lib%s.rlib" % name)

    # Pipelining: the metadata action runs the same compile and seedwrap kills
    # rustc as soon as it reports the .rmeta (which has the MIR dependents
    # need); dependents compile against it while this crate's Rustc action is
    # still running. The two actions need identical --emit kinds and
    # --error-format (rustc 1.95 hashes both into the crate's SVH), so the
    # Rustc action writes an rmeta too, and the metadata action names a link
    # output it never finishes.
    json = ["--error-format=json", "--json=artifacts"]
    rendered = ["--rustc-output-format", "rendered"]
    meta_args = _rustc_args(ctx, name, "rlib", ctx.attr.deps, link_deps = False) + json
    meta_inputs = _inputs(ctx, ctx.attr.deps, link_deps = False)
    if _rules_rust_main(ctx):
        # As rules_rust main: both actions run the very same rustc command,
        # `--emit=dep-info,link,metadata` into the package's directory; the
        # metadata action declares only the .rmeta, the full one only the
        # .rlib (what else rustc writes stays in the sandbox). seedwrap's one
        # rustc per crate (docs/pipelining.md) needs the two commands equal.
        rmeta = ctx.actions.declare_file("lib%s.rmeta" % name)
        same = meta_args + ["--out-dir=" + rlib.dirname]
        emit = "--emit=dep-info,link,metadata"
        _compile(ctx, "RustcMetadata", same, emit, [rmeta], meta_inputs, seeded, rendered + ["--rustc-quit-on-rmeta", "true"], build_script)
        _compile(ctx, "Rustc", same, emit, [rlib], meta_inputs, seeded, rendered, build_script)
        return _library_providers(ctx, name, rlib, rmeta)
    rmeta = ctx.actions.declare_file("_pipeline/lib%s.rmeta" % name)
    full_rmeta = ctx.actions.declare_file("lib%s.rmeta" % name)
    _compile(
        ctx,
        "RustcMetadata",
        meta_args,
        "--emit=metadata=%s,link=%s/lib%s.rlib" % (rmeta.path, rmeta.dirname, name),
        [rmeta],
        meta_inputs,
        seeded,
        rendered + ["--rustc-quit-on-rmeta", "true"],
        build_script,
    )
    _compile(
        ctx,
        "Rustc",
        meta_args,
        "--emit=metadata=%s,link=%s" % (full_rmeta.path, rlib.path),
        [rlib, full_rmeta],
        meta_inputs,
        seeded,
        rendered,
        build_script,
    )
    return _library_providers(ctx, name, rlib, rmeta)

def _library_providers(ctx, name, rlib, rmeta):
    deps = [d[RustCrateInfo] for d in ctx.attr.deps]
    return [
        DefaultInfo(files = depset([rlib])),
        RustCrateInfo(
            name = name,
            rlib = rlib,
            rmeta = rmeta,
            transitive_rlibs = depset([rlib], transitive = [d.transitive_rlibs for d in deps]),
            transitive_rmetas = depset([rmeta], transitive = [d.transitive_rmetas for d in deps]),
        ),
    ]

def _rust_binary_impl(ctx):
    name = _crate_name(ctx)
    args = _rustc_args(ctx, name, "bin", ctx.attr.deps, link_deps = True)
    inputs = _inputs(ctx, ctx.attr.deps, link_deps = True)
    exe = ctx.actions.declare_file(ctx.label.name)
    wrapper_flags = []
    if _rules_rust_main(ctx):
        # rules_rust reads every rustc's diagnostics as JSON and renders them.
        args = args + ["--error-format=json", "--json=artifacts"]
        wrapper_flags = ["--rustc-output-format", "rendered"]
    _compile(ctx, "Rustc", args, "--emit=link=" + exe.path, [exe], inputs, _seeded(ctx), wrapper_flags, _build_script(ctx))
    return [DefaultInfo(files = depset([exe]), executable = exe)]

_COMMON_ATTRS = {
    "srcs": attr.label_list(allow_files = [".rs"]),
    "crate_root": attr.label(allow_single_file = [".rs"], mandatory = True),
    "crate_name": attr.string(),
    "edition": attr.string(default = "2021"),
    "deps": attr.label_list(providers = [RustCrateInfo]),
    "crate_features": attr.string_list(),
    "cfgs": attr.string_list(doc = "--cfg values (what a build script would print)"),
    "rustc_flags": attr.string_list(),
    "_process_wrapper": attr.label(
        default = "//rust:process_wrapper",
        allow_single_file = True,
        cfg = "exec",
    ),
    "_seed": attr.label(default = "//rust:seed"),
    "_seed_min_mb": attr.label(default = "//rust:seed_min_mb"),
    "_stable_cwd": attr.label(default = "//rust:stable_cwd"),
    "_worker": attr.label(default = "//rust:worker"),
    "_rustc": attr.label(default = "//rust:rustc"),
    "_extra_rustc_flags": attr.label(default = "//rust:extra_rustc_flags"),
    "_flavor": attr.label(default = "//rust:flavor"),
    "_worker_startup_flags": attr.label(default = "//rust:worker_startup_flags"),
    "_rules_rust_extra_rustc_flags": attr.label(default = "//rust/settings:extra_rustc_flags"),
    "_rustc_env": attr.label(default = "//rust:rustc_env"),
}

rust_library = rule(
    implementation = _rust_library_impl,
    attrs = _COMMON_ATTRS,
    provides = [RustCrateInfo],
)

rust_binary = rule(
    implementation = _rust_binary_impl,
    attrs = _COMMON_ATTRS,
    executable = True,
)
