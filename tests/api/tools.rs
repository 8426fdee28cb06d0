//! Tools from other ecosystems that the tests use (a Python OpenAPI validator, the TypeScript compiler,
//! a browser driver), installed on first use at pinned versions under `target/`, so `cargo test` needs
//! no set-up beyond Python 3, Node.js and npm on the PATH (and Chromium for the browser test).
//! Concurrent test processes (nextest) take a file lock, so one installs and the others wait.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tools_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-tools");
    std::fs::create_dir_all(&dir).expect("create the tools directory");
    dir
}

/// Runs `install` once per content of `inputs`, under an exclusive lock; `marker` records what was
/// installed, so a changed pin installs again.
fn installed(name: &str, inputs: &[&Path], result: &Path, install: impl FnOnce()) {
    let dir = tools_dir();
    let lock = std::fs::File::create(dir.join(format!("{name}.lock"))).unwrap();
    lock.lock().expect("lock the tools directory");
    let wanted: String = inputs
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    let marker = dir.join(format!("{name}.installed"));
    if !result.exists() || std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str())
    {
        install();
        std::fs::write(&marker, wanted).unwrap();
    }
}

fn run(cmd: &mut Command, what: &str) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    assert!(status.success(), "{what} failed ({status}): {cmd:?}");
}

/// The Python of a virtualenv holding `tests/tools/requirements.txt`.
pub fn python() -> PathBuf {
    let venv = tools_dir().join("venv");
    let requirements = root().join("tests/tools/requirements.txt");
    installed("python", &[&requirements], &venv.join("bin/python"), || {
        run(
            Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            "create a Python virtualenv (needs python3 with venv)",
        );
        run(
            Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "--disable-pip-version-check", "-r"])
                .arg(&requirements),
            "pip install -r tests/tools/requirements.txt",
        );
    });
    venv.join("bin/python")
}

/// A Node.js package of the repository (e.g. `tests/frontend`) with its locked dependencies installed.
pub fn node_package(dir: &str) -> PathBuf {
    let package = root().join(dir);
    let lockfile = package.join("package-lock.json");
    let modules = package.join("node_modules");
    installed(&dir.replace('/', "_"), &[&lockfile], &modules, || {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&package),
            &format!("npm ci in {dir} (needs Node.js 20 and npm)"),
        );
    });
    package
}
