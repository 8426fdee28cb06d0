//! Stoplight Spectral with the OWASP API Security ruleset over the committed spec
//! (`tests/frontend/.spectral.yaml`, beside the npm tools pinned in that package's lockfile, where the
//! ruleset's package resolves). It reports nothing: no error and no warning. A rule that does not fit
//! this API is switched off in that file, for the places it does not fit, with the reason.

use std::process::Command;

use serde_json::Value;

use crate::tools;

fn findings() -> Vec<Value> {
    let dir = tools::node_package("tests/frontend");
    let out = Command::new(dir.join("node_modules/.bin/spectral"))
        .args([
            "lint",
            "../../openapi/openapi.json",
            "--ruleset",
            ".spectral.yaml",
        ])
        .args(["--format", "json", "--quiet", "--fail-severity", "error"])
        .current_dir(&dir)
        .output()
        .expect("spectral runs (npm ci in tests/frontend)");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "spectral's report ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn spectral_with_the_owasp_ruleset_finds_no_error_and_no_warning() {
    let found: Vec<String> = findings()
        .iter()
        .filter(|f| f["severity"].as_u64().is_some_and(|s| s <= 1))
        .map(|f| {
            let path: Vec<String> = f["path"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    p.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| p.to_string())
                })
                .collect();
            format!(
                "{} at {}: {}",
                f["code"].as_str().unwrap_or("?"),
                path.join("."),
                f["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "Spectral finds {} errors or warnings in openapi/openapi.json:\n{}",
        found.len(),
        found.join("\n")
    );
}
