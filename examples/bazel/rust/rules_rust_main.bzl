"""//rust:flavor=rules_rust_main: compile actions shaped like rules_rust main's.

What a rules_rust main user's Rustc and RustcMetadata actions carry, and
nothing else (no seed action, no incremental tree artifact, no unused-inputs
list): the wrapper gets

  [--arg-file <build script flags>] [--arg-file <build script link search paths>]
  [--env-file <build script env>]
  --subst pwd=${pwd} --subst exec_root=${exec_root}
  --subst output_base=${output_base}
  --rustc-output-format rendered [--rustc-quit-on-rmeta true]
  -- rustc ... --remap-path-prefix=${output_base}=. --remap-path-prefix=${pwd}=.
     <emit> <//rust/settings:extra_rustc_flags>

The extra flags reach every crate (external ones too) and both actions of a
pipelined library, as rules_rust's extra_rustc_flags do; that is where a user
writes -Cincremental=${output_base}/rustc-incremental. Whether a crate then
compiles incrementally (and where) is the wrapper's business: the action key
is the same on every machine, and nothing incremental is an output.

A crate with `cfgs` stands for one with a cargo_build_script: its cfgs come in
through the build script's flags file (--arg-file), next to its (empty) link
search paths and environment files, as rules_rust passes a build script's
outputs.
"""

_WORKER_REQUIREMENTS = {"supports-workers": "1", "supports-multiplex-workers": "1"}

def build_script_outputs(ctx):
    """The files a cargo_build_script would hand to the crate's compiles."""
    if not ctx.attr.cfgs:
        return struct(arg_files = [], env_files = [])
    stem = ctx.label.name + ".build_script"
    flags = ctx.actions.declare_file(stem + ".flags")
    link_paths = ctx.actions.declare_file(stem + ".linksearchpaths")
    env = ctx.actions.declare_file(stem + ".env")
    ctx.actions.write(flags, "".join(["--cfg=%s\n" % c for c in ctx.attr.cfgs]))
    ctx.actions.write(link_paths, "")
    ctx.actions.write(env, "")
    return struct(arg_files = [flags, link_paths], env_files = [env])

def compile_like_rules_rust_main(
        ctx,
        mnemonic,
        wrapper,
        program,
        rustc_args,
        emit_flag,
        outputs,
        inputs,
        env,
        extra_wrapper_flags,
        build_script,
        extra_rustc_flags,
        worker,
        worker_startup_flags = []):
    """Registers one Rustc or RustcMetadata action the way rules_rust main does."""
    substs = [
        "--subst",
        "pwd=${pwd}",
        "--subst",
        "exec_root=${exec_root}",
        "--subst",
        "output_base=${output_base}",
    ]
    build_script_flags = []
    for f in build_script.arg_files:
        build_script_flags += ["--arg-file", f.path]
    for f in build_script.env_files:
        build_script_flags += ["--env-file", f.path]
    child = program + rustc_args + [
        "--remap-path-prefix=${output_base}=.",
        "--remap-path-prefix=${pwd}=.",
        emit_flag,
    ] + extra_rustc_flags
    request = build_script_flags + extra_wrapper_flags + ["--"] + child
    if worker:
        # The substitutions are the same for every action: the worker's
        # startup arguments (with worker-only flags such as
        # --worker-incremental-dir auto). Everything else goes in the @flagfile.
        flagfile = ctx.actions.args()
        flagfile.use_param_file("@%s", use_always = True)
        flagfile.set_param_file_format("multiline")
        flagfile.add_all(request)
        arguments = substs + worker_startup_flags + [flagfile]
        requirements = _WORKER_REQUIREMENTS
    else:
        arguments = build_script_flags + substs + extra_wrapper_flags + ["--"] + child
        requirements = None
    ctx.actions.run(
        mnemonic = mnemonic,
        progress_message = "Compiling %s (%s)" % (ctx.label, mnemonic),
        executable = wrapper,
        arguments = arguments,
        inputs = depset(build_script.arg_files + build_script.env_files, transitive = [inputs]),
        outputs = outputs,
        env = env,
        execution_requirements = requirements,
    )
