//! The container builds from a clean context. No Docker engine runs on the test machines, so these tests
//! check what `docker build` would need: every path Cargo.toml and the code read at compile time is
//! copied into the build stage and not excluded by `.dockerignore`, and hadolint finds nothing.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(root().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The paths a release build reads: the manifest and lockfile, every target's source, and the folders
/// macros read at compile time (`embed_migrations!`, `include_str!`).
fn needed_paths() -> Vec<String> {
    let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
    let mut needed = vec!["Cargo.toml".to_string(), "Cargo.lock".to_string()];
    // Cargo runs a build script it finds at the root (or wherever `package.build` says).
    let build_script = manifest
        .get("package")
        .and_then(|p| p.get("build"))
        .and_then(|b| b.as_str())
        .unwrap_or("build.rs");
    if root().join(build_script).exists() {
        needed.push(build_script.to_string());
    }
    if let Some(lib) = manifest.get("lib").and_then(|l| l.get("path")) {
        needed.push(lib.as_str().unwrap().to_string());
    }
    for section in ["bin", "bench", "test", "example"] {
        for target in manifest
            .get(section)
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(path) = target.get("path").and_then(|p| p.as_str()) {
                // Tests and examples are not built by `cargo build --release`; benches are declared, so
                // Cargo needs their files to read the manifest.
                if section == "bin" || section == "bench" {
                    needed.push(path.to_string());
                }
            } else if section == "bench" {
                let name = target["name"].as_str().unwrap();
                needed.push(format!("benches/{name}.rs"));
            }
        }
    }
    let macro_arg =
        regex_lite::Regex::new(r#"(?:embed_migrations|include_str|include_bytes)!\("([^"]+)"\)"#)
            .unwrap();
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for c in macro_arg.captures_iter(&text) {
                    let arg = &c[1];
                    let resolved = if text.contains(&format!("embed_migrations!(\"{arg}\")")) {
                        root().join(arg)
                    } else {
                        path.parent().unwrap().join(arg)
                    };
                    let relative = lexical(resolved.strip_prefix(root()).unwrap());
                    needed.push(relative.to_string_lossy().into_owned());
                }
            }
        }
    }
    needed
}

/// `src/documents/pdf/../../../assets/x` as `assets/x`: a path a macro names relative to its file, with
/// `.` and `..` resolved without asking the file system.
fn lexical(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The sources of the COPY instructions of the first (build) stage.
fn copied_in_build_stage(dockerfile: &str) -> Vec<String> {
    let mut copied = Vec::new();
    let mut stages = 0;
    for line in dockerfile.lines().map(str::trim) {
        if line.starts_with("FROM ") {
            stages += 1;
        }
        if stages == 1 {
            if let Some(rest) = line.strip_prefix("COPY ") {
                let args: Vec<&str> = rest
                    .split_whitespace()
                    .filter(|a| !a.starts_with("--"))
                    .collect();
                let (_, sources) = args.split_last().unwrap();
                copied.extend(sources.iter().map(|s| s.trim_end_matches('/').to_string()));
            }
        }
    }
    copied
}

fn covered(path: &str, copied: &[String]) -> bool {
    copied
        .iter()
        .any(|c| c == "." || path == c || path.starts_with(&format!("{c}/")))
}

#[test]
fn the_dockerfile_copies_every_path_the_build_needs() {
    let dockerfile = read("Dockerfile");
    let copied = copied_in_build_stage(&dockerfile);
    let needed = needed_paths();
    assert!(needed.iter().any(|p| p == "migrations"), "{needed:?}");
    assert!(
        needed.iter().any(|p| p.starts_with("benches/")),
        "{needed:?}"
    );
    for path in &needed {
        assert!(root().join(path).exists(), "{path} is named but missing");
        assert!(
            covered(path, &copied),
            "the Dockerfile does not copy {path} (copies {copied:?})"
        );
    }
}

#[test]
fn the_copy_check_notices_a_missing_path() {
    let without_benches = read("Dockerfile").replace("COPY benches ./benches", "");
    let copied = copied_in_build_stage(&without_benches);
    assert!(!needed_paths().iter().all(|p| covered(p, &copied)));
}

#[test]
fn dockerignore_keeps_build_output_and_data_out_and_the_sources_in() {
    let ignore = read(".dockerignore");
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/'))
        .collect();
    for must in ["target", "data"] {
        assert!(patterns.contains(&must), "{must} is not in .dockerignore");
    }
    for path in needed_paths() {
        let top = path.split('/').next().unwrap();
        assert!(!patterns.contains(&top), ".dockerignore excludes {path}");
    }
}

#[test]
fn the_healthcheck_asks_readiness_through_the_binary_as_a_non_root_user() {
    let dockerfile = read("Dockerfile");
    let health = dockerfile
        .lines()
        .find(|l| l.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    assert!(
        health.contains(r#"CMD ["stafettlogg", "health"]"#),
        "{health}"
    );
    assert!(!dockerfile.contains("/dev/tcp"));
    let user = dockerfile
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("a USER");
    assert!(!user.contains("root") && user.trim() != "USER 0", "{user}");
    let compose = read("docker-compose.yml");
    for needed in [
        "condition: service_healthy",
        "NATIONAL_ID_KEY",
        "JWT_HS256_SECRET",
        "healthcheck",
    ] {
        assert!(
            compose.contains(needed),
            "docker-compose.yml lacks {needed}"
        );
    }
}

#[test]
fn hadolint_finds_nothing_in_the_dockerfile() {
    let python = crate::tools::python();
    let hadolint = python.parent().unwrap().join("hadolint");
    let out = std::process::Command::new(hadolint)
        .args(["--no-color", "Dockerfile"])
        .current_dir(root())
        .output()
        .expect("run hadolint (installed from tests/tools/requirements.txt)");
    assert!(
        out.status.success(),
        "hadolint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
