"""One rustc compile driven the way rules_rust main drives its process wrapper:
${pwd} and ${output_base} substitutions, both --remap-path-prefix flags, and
the user's extra rustc flags (here from --define=rustc_flags=A,B) at the end."""

def _rlib_impl(ctx):
    out = ctx.actions.declare_file("lib%s.rlib" % ctx.attr.crate)
    args = ctx.actions.args()
    args.add_all(["--subst", "pwd=${pwd}", "--subst", "output_base=${output_base}", "--rustc-output-format", "rendered", "--"])
    args.add(ctx.attr.rustc)
    args.add(ctx.file.src.path)
    args.add_all([
        "--crate-name=" + ctx.attr.crate,
        "--crate-type=rlib",
        "--edition=2018",
        "--error-format=json",
        "--json=artifacts",
        "--emit=link",
        "--out-dir=" + out.dirname,
        "--remap-path-prefix=${output_base}=ob",
        "--remap-path-prefix=${pwd}=.",
    ])
    extra = ctx.var.get("rustc_flags", "")
    if extra:
        args.add_all(extra.split(","))
    ctx.actions.run(
        executable = ctx.executable._wrapper,
        arguments = [args],
        inputs = ctx.files.src,
        outputs = [out],
        mnemonic = "Rustc",
        progress_message = "Compiling %s" % ctx.label,
        env = {"RUSTC_BOOTSTRAP": "1", "RULES_RUST_PROCESS_WRAPPER_DEBUG": "1"},
    )
    return [DefaultInfo(files = depset([out]))]

rlib = rule(
    implementation = _rlib_impl,
    attrs = {
        "src": attr.label(allow_single_file = [".rs"]),
        "crate": attr.string(),
        "rustc": attr.string(),
        "_wrapper": attr.label(default = "//tools:seedwrap.cjs", executable = True, allow_single_file = True, cfg = "host"),
    },
)
