//! Tools from other ecosystems that the tests use (a Python OpenAPI validator, the TypeScript compiler,
//! a browser driver), installed on first use at pinned versions under `target/`, so `cargo test` needs
//! no set-up beyond the system packages of `scripts/debian-packages.txt` (Python 3 with venv, Node.js
//! and npm, Chromium, ...). Concurrent test processes (nextest) take a file lock, so one installs and the
//! others wait. A test that needs a system program asks [`require`] first, so a fresh machine's failure
//! names the package to install rather than a bare "No such file or directory".

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

/// The packages of `scripts/debian-packages.txt`, in its order (the words before any `#`).
pub fn debian_packages() -> Vec<String> {
    let path = root().join("scripts/debian-packages.txt");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Fails the test, naming what to install, when `program` is not on the PATH. `packages` (space-separated)
/// must be in `scripts/debian-packages.txt`, so the message and what `.ci/run` installs never disagree.
pub fn require(program: &str, packages: &str) {
    let listed = debian_packages();
    for package in packages.split_whitespace() {
        assert!(
            listed.iter().any(|p| p == package),
            "{package} is not in scripts/debian-packages.txt: add it there (and to the README's install line)"
        );
    }
    let found = Command::new("sh")
        .args(["-c", &format!("command -v '{program}'")])
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        found,
        "{program} is missing: install it (Debian/Ubuntu: apt-get install {packages}; .ci/run installs \
         every package of scripts/debian-packages.txt that is missing)"
    );
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
        require("python3", "python3-venv");
        run(
            Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            "create a Python virtualenv (needs python3 with venv: apt-get install python3-venv)",
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
        // Node.js from nodesource or nvm brings its own npm; Debian's comes as two packages.
        require("npm", "nodejs npm");
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&package),
            &format!("npm ci in {dir} (needs Node.js 20 and npm)"),
        );
    });
    package
}
