//! Native baseline for the seeding benchmark (bench/seed/bench.mjs): mirrors
//! SRC into DEST with hard links, copying a file when link(2) refuses (EXDEV,
//! EMLINK, EPERM, ENOENT from OverlayFS), like `cp -al` but with N threads
//! that claim whole directories from a shared counter, because link(2)
//! serialises on the target directory. Symlinks are followed, as seedwrap
//! does. Usage: native-seed SRC DEST [THREADS=2]
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

struct Plan {
    dirs: Vec<PathBuf>,
    groups: Vec<Vec<(PathBuf, PathBuf)>>,
}

fn walk(src: &Path, dst: &Path, plan: &mut Plan) -> io::Result<()> {
    plan.dirs.push(dst.to_path_buf());
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let mut ty = entry.file_type()?;
        let mut from = entry.path();
        if ty.is_symlink() {
            from = fs::canonicalize(&from)?;
            ty = fs::metadata(&from)?.file_type();
        }
        let to = dst.join(entry.file_name());
        if ty.is_dir() {
            subdirs.push((from, to));
        } else if ty.is_file() {
            files.push((from, to));
        }
    }
    if !files.is_empty() {
        plan.groups.push(files);
    }
    for (from, to) in subdirs {
        walk(&from, &to, plan)?;
    }
    Ok(())
}

fn place(from: &Path, to: &Path, copied: &AtomicUsize) -> io::Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.raw_os_error(), Some(18) | Some(31) | Some(1) | Some(2)) => {
            // EXDEV, EMLINK, EPERM, ENOENT: copy this one file
            copied.fetch_add(1, Ordering::Relaxed);
            fs::copy(from, to).map(|_| ())
        }
        Err(e) => Err(e),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: native-seed SRC DEST [THREADS]");
        std::process::exit(2);
    }
    let threads: usize = args.get(3).and_then(|t| t.parse().ok()).unwrap_or(2);
    let mut plan = Plan { dirs: Vec::new(), groups: Vec::new() };
    walk(Path::new(&args[1]), Path::new(&args[2]), &mut plan).expect("walk");
    for dir in &plan.dirs {
        fs::create_dir(dir).expect("mkdir");
    }
    let next = AtomicUsize::new(0);
    let copied = AtomicUsize::new(0);
    let failure: Mutex<Option<io::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let g = next.fetch_add(1, Ordering::Relaxed);
                let Some(group) = plan.groups.get(g) else { break };
                for (from, to) in group {
                    if let Err(e) = place(from, to, &copied) {
                        *failure.lock().unwrap() = Some(e);
                        return;
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap() {
        eprintln!("native-seed: {e}");
        std::process::exit(1);
    }
    let files: usize = plan.groups.iter().map(Vec::len).sum();
    println!("{files} files, {} copied", copied.load(Ordering::Relaxed));
}
