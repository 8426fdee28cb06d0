//! `stafettlogg import FILE --url URL --token TOKEN`: streams an NDJSON file of case documents to a running
//! service in batches that fit its body limit, several at a time, with a progress bar, and reports the
//! lines that failed by their line number in the file.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;

pub struct Options {
    /// Lines per request.
    pub batch_lines: usize,
    /// Bytes per request, at most: below the server's IMPORT_BODY_LIMIT_BYTES (8 MiB by default).
    pub batch_bytes: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch_lines: 200,
            batch_bytes: 4 * 1024 * 1024,
            concurrency: 4,
            progress: true,
        }
    }
}

#[derive(Debug, Default)]
pub struct Summary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// File line number and what was wrong.
    pub failed: Vec<(usize, String)>,
}

impl Summary {
    pub fn lines(&self) -> usize {
        self.created + self.updated + self.unchanged + self.failed.len()
    }
}

#[derive(Deserialize)]
struct Report {
    lines: Vec<Line>,
}

#[derive(Deserialize)]
struct Line {
    line: usize,
    status: String,
    #[serde(default)]
    errors: Vec<FieldError>,
    detail: Option<String>,
}

#[derive(Deserialize)]
struct FieldError {
    field: String,
    message: String,
}

struct Batch {
    /// File line number of the batch's first line.
    first_line: usize,
    body: String,
}

fn batches(file: &Path, opts: &Options) -> Result<Vec<Batch>, String> {
    let f =
        std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    let mut out = Vec::new();
    let mut current = Batch {
        first_line: 1,
        body: String::new(),
    };
    let mut count = 0;
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let full =
            count >= opts.batch_lines || current.body.len() + line.len() + 1 > opts.batch_bytes;
        if full && count > 0 {
            out.push(std::mem::replace(
                &mut current,
                Batch {
                    first_line: i + 1,
                    body: String::new(),
                },
            ));
            count = 0;
        }
        // Empty lines keep their place so the server's line numbers map back to the file.
        current.body.push_str(&line);
        current.body.push('\n');
        count += 1;
    }
    if count > 0 {
        out.push(current);
    }
    Ok(out)
}

fn send(agent: &ureq::Agent, url: &str, token: &str, batch: &Batch) -> Result<Vec<Line>, String> {
    let endpoint = format!("{}/api/v1/imports", url.trim_end_matches('/'));
    let mut res = agent
        .post(&endpoint)
        .header("Authorization", &format!("Bearer {token}"))
        .content_type("application/x-ndjson")
        .send(batch.body.as_bytes())
        .map_err(|e| format!("cannot reach {endpoint}: {e}"))?;
    let status = res.status().as_u16();
    let text = res
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("the service answered {status}: {text}"));
    }
    let report: Report =
        serde_json::from_str(&text).map_err(|e| format!("unexpected answer: {e}"))?;
    Ok(report.lines)
}

pub fn run(file: &Path, url: &str, token: &str, opts: &Options) -> Result<Summary, String> {
    let batches = batches(file, opts)?;
    let total: usize = batches
        .iter()
        .map(|b| b.body.lines().filter(|l| !l.trim().is_empty()).count())
        .sum();
    let bar = progress_bar(total, opts.progress);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let shared = Shared {
        batches: &batches,
        next: Mutex::new(0),
        summary: Mutex::new(Summary::default()),
        fatal: Mutex::new(None),
    };
    std::thread::scope(|s| {
        for _ in 0..opts.concurrency.max(1) {
            s.spawn(|| shared.work(&agent, url, token, &bar));
        }
    });
    bar.finish();
    if let Some(e) = shared.fatal.into_inner().expect("not poisoned") {
        return Err(e);
    }
    let mut summary = shared.summary.into_inner().expect("not poisoned");
    summary.failed.sort();
    Ok(summary)
}

fn progress_bar(total: usize, shown: bool) -> ProgressBar {
    let bar = if shown {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases  {per_sec}  {msg}")
            .expect("valid template"),
    );
    bar
}

/// What the sending threads of one run share.
struct Shared<'b> {
    batches: &'b [Batch],
    /// The index of the next batch to send.
    next: Mutex<usize>,
    summary: Mutex<Summary>,
    /// Set when the service cannot be reached: every thread stops.
    fatal: Mutex<Option<String>>,
}

impl Shared<'_> {
    /// The next batch no thread has taken, unless the run was stopped.
    fn take(&self) -> Option<&Batch> {
        let mut n = self.next.lock().expect("not poisoned");
        if *n >= self.batches.len() || self.fatal.lock().expect("not poisoned").is_some() {
            return None;
        }
        *n += 1;
        Some(&self.batches[*n - 1])
    }

    fn work(&self, agent: &ureq::Agent, url: &str, token: &str, bar: &ProgressBar) {
        while let Some(batch) = self.take() {
            match send(agent, url, token, batch) {
                Ok(lines) => self
                    .summary
                    .lock()
                    .expect("not poisoned")
                    .count(batch, lines, bar),
                // One batch refused as a whole (e.g. too large for the server): its lines fail, the rest
                // go on. Only a service that cannot be reached stops the run.
                Err(e) if e.starts_with("cannot reach") => {
                    *self.fatal.lock().expect("not poisoned") = Some(e);
                    return;
                }
                Err(e) => self
                    .summary
                    .lock()
                    .expect("not poisoned")
                    .fail_batch(batch, &e, bar),
            }
        }
    }
}

impl Summary {
    /// Counts the server's answer for each line of a batch.
    fn count(&mut self, batch: &Batch, lines: Vec<Line>, bar: &ProgressBar) {
        for l in lines {
            match l.status.as_str() {
                "created" => self.created += 1,
                "updated" => self.updated += 1,
                "unchanged" => self.unchanged += 1,
                _ => {
                    let line = batch.first_line + l.line - 1;
                    self.failed.push((line, l.what_failed()));
                }
            }
            bar.inc(1);
        }
        bar.set_message(format!(
            "created {} updated {} unchanged {} failed {}",
            self.created,
            self.updated,
            self.unchanged,
            self.failed.len()
        ));
    }

    /// Every non-empty line of a batch the service refused as a whole fails with the batch's error.
    fn fail_batch(&mut self, batch: &Batch, error: &str, bar: &ProgressBar) {
        for (k, line) in batch.body.lines().enumerate() {
            if !line.trim().is_empty() {
                self.failed.push((batch.first_line + k, error.to_string()));
                bar.inc(1);
            }
        }
    }
}

impl Line {
    /// The fields the server named and what was wrong with each, or its detail when it named none.
    fn what_failed(self) -> String {
        if self.errors.is_empty() {
            self.detail.unwrap_or_default()
        } else {
            self.errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(first_line: usize, body: &str) -> Batch {
        Batch {
            first_line,
            body: body.into(),
        }
    }

    fn answer(json: serde_json::Value) -> Vec<Line> {
        serde_json::from_value::<Report>(json).unwrap().lines
    }

    #[test]
    fn a_failed_line_is_reported_by_its_line_in_the_file_not_in_the_batch() {
        let mut summary = Summary::default();
        let lines = answer(serde_json::json!({"lines": [
            {"line": 1, "status": "created"},
            {"line": 2, "status": "unchanged"},
            {"line": 3, "status": "failed", "errors": [
                {"field": "case.level", "message": "is 7"},
                {"field": "holder", "message": "is missing"}]},
            {"line": 4, "status": "failed", "detail": "no such service"},
            {"line": 5, "status": "updated"},
        ]}));
        summary.count(&batch(201, ""), lines, &ProgressBar::hidden());
        assert_eq!(
            (summary.created, summary.updated, summary.unchanged),
            (1, 1, 1)
        );
        assert_eq!(
            summary.failed,
            [
                (203, "case.level: is 7; holder: is missing".to_string()),
                (204, "no such service".to_string()),
            ]
        );
        assert_eq!(summary.lines(), 5);
    }

    #[test]
    fn a_batch_refused_as_a_whole_fails_each_of_its_lines_but_the_empty_ones() {
        let mut summary = Summary::default();
        let refused = batch(11, "{}\n\n{}\n  \n{}\n");
        summary.fail_batch(&refused, "the service answered 413", &ProgressBar::hidden());
        let lines: Vec<usize> = summary.failed.iter().map(|f| f.0).collect();
        assert_eq!(lines, [11, 13, 15]);
        assert!(summary
            .failed
            .iter()
            .all(|f| f.1 == "the service answered 413"));
    }

    #[test]
    fn batches_are_cut_by_lines_and_by_bytes_and_keep_empty_lines_in_place() {
        let dir = std::env::temp_dir().join(format!("import-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("cases.ndjson");
        std::fs::write(&file, "a\n\nb\ncc\nddddd\ne\n").unwrap();
        let opts = Options {
            batch_lines: 3,
            batch_bytes: 8,
            ..Options::default()
        };
        let cut = batches(&file, &opts).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let got: Vec<(usize, &str)> = cut
            .iter()
            .map(|b| (b.first_line, b.body.as_str()))
            .collect();
        assert_eq!(got, [(1, "a\n\nb\n"), (4, "cc\n"), (5, "ddddd\ne\n")]);
    }
}
