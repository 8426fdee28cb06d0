//! Stoplight Spectral with the OWASP API Security ruleset over the committed spec
//! (`tests/frontend/.spectral.yaml`, beside the npm tools pinned in that package's lockfile, where the
//! ruleset's package resolves). Its errors may only go down: each rule's count is
//! held to `openapi/spectral-baseline.json`, and a rule that is not there has none.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use crate::tools;

fn errors_by_rule() -> BTreeMap<String, u64> {
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
    let findings: Vec<Value> = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "spectral's report ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut counts = BTreeMap::new();
    for f in findings.iter().filter(|f| f["severity"] == 0) {
        *counts
            .entry(f["code"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    counts
}

#[test]
fn spectral_with_the_owasp_ruleset_finds_no_error_beyond_the_baseline() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let baseline: BTreeMap<String, u64> = serde_json::from_str(
        &std::fs::read_to_string(root.join("openapi/spectral-baseline.json")).unwrap(),
    )
    .unwrap();
    let found = errors_by_rule();
    let over: Vec<String> = found
        .iter()
        .filter(|(rule, n)| **n > baseline.get(*rule).copied().unwrap_or(0))
        .map(|(rule, n)| {
            format!(
                "{rule}: {n} (baseline {})",
                baseline.get(rule).copied().unwrap_or(0)
            )
        })
        .collect();
    assert!(
        over.is_empty(),
        "Spectral finds errors beyond openapi/spectral-baseline.json (fix them; the baseline only goes \
         down):\n{}",
        over.join("\n")
    );
    // A baseline above what is found is lowered by hand, so the ratchet keeps what was won.
    let stale: Vec<String> = baseline
        .iter()
        .filter(|(rule, n)| found.get(*rule).copied().unwrap_or(0) < **n)
        .map(|(rule, n)| {
            format!(
                "{rule}: baseline {n}, found {}",
                found.get(rule).copied().unwrap_or(0)
            )
        })
        .collect();
    assert!(
        stale.is_empty(),
        "lower openapi/spectral-baseline.json to what Spectral finds now:\n{}",
        stale.join("\n")
    );
}
