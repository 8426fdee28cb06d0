//! The log check of a test run: every log line the run wrote is JSON where it must be, and none holds a
//! national identity number, in any of the forms people write one, by the service's own rules
//! (`stafettlogg::national_id::find_in_text`: the date, and either check-digit rule, the classic one or
//! the relaxed K1 of numbers issued from 2032).
//!
//! The logs are those of `target/tmp/test-logs/`: the in-process servers' (`api-<pid>.jsonl`, written by
//! tests/api/support.rs), and the standard error of every process the tests start: the binary's serve
//! instances and one-off commands (`process-*.log`), the README walk (`readme-*.jsonl`) and the failover
//! run (`failover-*.jsonl`). An in-process server writes nothing but JSON; a process also prints plain
//! lines of its own (where it listens, what a command did, why it refused), which are scanned all the
//! same.
//!
//! Why a test target of its own: `cargo test` runs its test binaries one after another, in the order of
//! their names (the library's and the binary's unit tests, then `api`, then `logs`), so this one runs when
//! every other test of the run has written its logs. A run filtered to other tests (`cargo test matrix::`)
//! filters this one out too. CI removes the directory before `cargo test`; locally, logs of earlier runs
//! are checked as well.

use std::path::{Path, PathBuf};

use serde_json::Value;
use stafettlogg::national_id::{self, WrittenForm};

fn log_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-logs")
}

/// Who wrote a log file, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// An in-process test server: every line is a JSON object.
    InProcess,
    /// A process's standard error: JSON log lines and the process's own plain lines.
    Process,
}

impl Writer {
    fn of(path: &Path) -> Writer {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("api-") {
            Writer::InProcess
        } else {
            Writer::Process
        }
    }
}

/// What is wrong with one line, if anything. Never the number itself: the message names its form only.
fn problem(writer: Writer, line: &str) -> Option<String> {
    let json = serde_json::from_str::<Value>(line)
        .ok()
        .filter(Value::is_object);
    if json.is_none() && (writer == Writer::InProcess || line.trim_start().starts_with('{')) {
        return Some("not a JSON object".into());
    }
    // The line as written, and the text of its JSON values decoded (a separator may be escaped there).
    let mut texts = vec![line.to_string()];
    if let Some(json) = &json {
        collect_values(json, &mut texts);
    }
    let forms: Vec<WrittenForm> = texts
        .iter()
        .flat_map(|t| national_id::find_in_text(t))
        .map(|w| w.form)
        .collect();
    forms
        .first()
        .map(|form| format!("holds a national identity number ({form:?})"))
}

fn collect_values(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| collect_values(v, out)),
        Value::Object(fields) => fields.iter().for_each(|(key, v)| {
            out.push(key.clone());
            collect_values(v, out);
        }),
        Value::Bool(_) | Value::Null => {}
    }
}

/// Lines read per writer, and every problem as `file:line: what`.
#[derive(Default)]
struct Checked {
    in_process: usize,
    process: usize,
    plain: usize,
    problems: Vec<String>,
}

fn check_file(path: &Path, checked: &mut Checked) {
    let writer = Writer::of(path);
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (n, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
        match writer {
            Writer::InProcess => checked.in_process += 1,
            Writer::Process => checked.process += 1,
        }
        if writer == Writer::Process && !line.trim_start().starts_with('{') {
            checked.plain += 1;
        }
        if let Some(what) = problem(writer, line) {
            checked
                .problems
                .push(format!("{}:{}: {what}", path.display(), n + 1));
        }
    }
}

#[test]
fn every_log_line_of_the_run_is_json_where_it_must_be_and_holds_no_national_id() {
    let dir = log_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    let mut checked = Checked::default();
    for path in &files {
        check_file(path, &mut checked);
    }
    println!(
        "{} log lines of in-process servers, {} of processes ({} of them plain), in {} files of {}",
        checked.in_process,
        checked.process,
        checked.plain,
        files.len(),
        dir.display()
    );
    // A run that wrote nothing here did not capture its logs, and would pass without checking anything.
    assert!(
        checked.in_process > 0,
        "no log line of an in-process server in {}: did tests/api run, with its log capture?",
        dir.display()
    );
    assert!(
        checked.process > 0,
        "no log line of a process the tests started in {}: did tests/api run, with the capture of \
         the binary's standard error?",
        dir.display()
    );
    assert!(
        checked.problems.is_empty(),
        "{} problems:\n{}",
        checked.problems.len(),
        checked.problems.join("\n")
    );
}

mod rules {
    use super::*;

    fn id() -> String {
        (100..)
            .find_map(|n| national_id::synthetic(14, 8, 20, n))
            .unwrap()
    }

    /// A number that passes only the relaxed K1 rule of numbers issued from 2032: a classic number whose
    /// K1 is raised by one (and K2 computed anew).
    fn issued_from_2032() -> String {
        const K2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
        let raised = |classic: String| {
            let mut d: Vec<u32> = classic.chars().map(|c| c.to_digit(10).unwrap()).collect();
            if d[9] == 9 {
                return None;
            }
            d[9] += 1;
            let sum: u32 = d[..10].iter().zip(K2).map(|(d, w)| d * w).sum();
            d[10] = (11 - sum % 11) % 11;
            (d[10] < 10).then(|| {
                d.iter()
                    .map(|d| char::from_digit(*d, 10).unwrap())
                    .collect()
            })
        };
        let n: String = (100..)
            .find_map(|n| national_id::synthetic(14, 8, 20, n).and_then(raised))
            .unwrap();
        let digits: [u32; 11] = std::array::from_fn(|i| n[i..=i].parse().unwrap());
        assert_eq!(
            national_id::check_digit_rule(&digits),
            Some(national_id::CheckDigitRule::From2032)
        );
        n
    }

    #[test]
    fn a_spaced_national_id_in_a_line_of_a_process_is_found() {
        let id = id();
        let line = format!("Erased the case of {} {}.", &id[..6], &id[6..]);
        let what = problem(Writer::Process, &line).unwrap();
        assert!(
            what.contains("DateApart") && !what.contains(&id[6..]),
            "{what}"
        );
    }

    #[test]
    fn a_national_id_issued_from_2032_in_a_json_line_is_found() {
        let id = issued_from_2032();
        let line = serde_json::json!({"level": "INFO", "message": format!("pid {id}")}).to_string();
        assert!(problem(Writer::Process, &line).is_some());
        assert!(problem(Writer::InProcess, &line).is_some());
    }

    #[test]
    fn a_national_id_whose_space_is_escaped_in_json_is_found() {
        let id = id();
        let line =
            serde_json::json!({"message": format!("{}\t{}", &id[..6], &id[6..])}).to_string();
        assert!(line.contains("\\t"), "{line}");
        assert!(problem(Writer::InProcess, &line).is_some());
    }

    #[test]
    fn a_plain_line_is_accepted_only_from_a_process_and_a_broken_json_line_from_none() {
        let plain = "Stafettlogg listens on http://127.0.0.1:8080";
        assert_eq!(problem(Writer::Process, plain), None);
        assert_eq!(
            problem(Writer::InProcess, plain).as_deref(),
            Some("not a JSON object")
        );
        let broken = r#"{"level":"INFO","message":"cut"#;
        assert!(problem(Writer::Process, broken).is_some());
        assert_eq!(problem(Writer::InProcess, r#"{"level":"INFO"}"#), None);
    }

    #[test]
    fn numbers_that_fail_the_rules_are_not_reported() {
        let id = id();
        let mut wrong = id.clone().into_bytes();
        wrong[10] = b'0' + (wrong[10] - b'0' + 1) % 10;
        let wrong = String::from_utf8(wrong).unwrap();
        let line = serde_json::json!({"elapsed_ms": 41.739, "message": format!("order {wrong}")});
        assert_eq!(problem(Writer::InProcess, &line.to_string()), None);
    }
}
