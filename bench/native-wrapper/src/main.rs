//! The start-up baseline for seedwrap's benchmarks: what a minimal native
//! `process_wrapper` does on every rustc action, and nothing more.
//!
//! `native-wrapper [--subst KEY=VALUE]... -- PROGRAM [ARGS...]`
//!
//! It parses the flags, spawns PROGRAM with stdin and stdout inherited, reads
//! the child's stderr line by line (split on `\n` only, bytes kept as bytes)
//! and forwards each line, waits, and exits with the child's code (1 for a
//! signal death, as upstream does). It is a yardstick, not a replacement:
//! every other upstream flag is refused so that nobody mistakes it for one.

use std::io::{self, BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("native-wrapper: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &[String]) -> Result<u8, String> {
    let (substs, child_argv) = parse(args)?;
    let child_argv: Vec<String> = child_argv.iter().map(|a| substitute(a, &substs)).collect();
    let (program, rest) = child_argv
        .split_first()
        .ok_or_else(|| "no program to run after `--`".to_string())?;

    let mut child = Command::new(program)
        .args(rest)
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;

    // Only stderr is piped, so reading it to EOF here cannot deadlock: the
    // child's stdout goes straight to our fd 1.
    if let Some(stderr) = child.stderr.take() {
        forward_lines(stderr).map_err(|e| format!("forwarding stderr: {e}"))?;
    }
    let status = child.wait().map_err(|e| format!("waiting for {program}: {e}"))?;
    // A signal death has no code; upstream reports it as a plain failure.
    Ok(status.code().map_or(1, |c| c as u8))
}

/// Flag grammar as upstream: a flag takes the following tokens that do not
/// start with `--`; `--` ends the flags. Only `--subst` is implemented.
fn parse(args: &[String]) -> Result<(Vec<(String, String)>, &[String]), String> {
    let mut substs = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let flag = &args[i];
        if flag == "--" {
            return Ok((substs, &args[i + 1..]));
        }
        if !flag.starts_with("--") {
            return Err(format!("unknown flag {flag}"));
        }
        let mut end = i + 1;
        while end < args.len() && !args[end].starts_with("--") {
            end += 1;
        }
        let values = &args[i + 1..end];
        if values.is_empty() {
            return Err(format!("{flag}: missing parameter(s)"));
        }
        match flag.as_str() {
            "--subst" => {
                for v in values {
                    let (k, val) = v
                        .split_once('=')
                        .ok_or_else(|| format!("--subst {v}: expected KEY=VALUE"))?;
                    substs.push((k.to_string(), val.to_string()));
                }
            }
            _ => return Err(format!("unknown flag {flag} (this benchmark wrapper only knows --subst)")),
        }
        i = end;
    }
    Err("missing `--` before the program".to_string())
}

fn substitute(arg: &str, substs: &[(String, String)]) -> String {
    let mut out = arg.to_string();
    for (k, v) in substs {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

/// Forwards complete `\n`-terminated lines (and a final unterminated one)
/// without decoding them, flushing per line as process_wrapper does.
fn forward_lines(stderr: impl io::Read) -> io::Result<()> {
    let mut reader = BufReader::new(stderr);
    let mut out = io::stderr().lock();
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        out.write_all(&line)?;
        out.flush()?;
    }
}
