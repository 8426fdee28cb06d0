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
    let bar = if opts.progress {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases  {per_sec}  {msg}")
            .expect("valid template"),
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let summary = Mutex::new(Summary::default());
    let next = Mutex::new(0usize);
    let fatal: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..opts.concurrency.max(1) {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().expect("not poisoned");
                    if *n >= batches.len() || fatal.lock().expect("not poisoned").is_some() {
                        return;
                    }
                    *n += 1;
                    *n - 1
                };
                let batch = &batches[i];
                match send(&agent, url, token, batch) {
                    Ok(lines) => {
                        let mut sum = summary.lock().expect("not poisoned");
                        for l in lines {
                            match l.status.as_str() {
                                "created" => sum.created += 1,
                                "updated" => sum.updated += 1,
                                "unchanged" => sum.unchanged += 1,
                                _ => {
                                    let what = if l.errors.is_empty() {
                                        l.detail.unwrap_or_default()
                                    } else {
                                        l.errors
                                            .iter()
                                            .map(|e| format!("{}: {}", e.field, e.message))
                                            .collect::<Vec<_>>()
                                            .join("; ")
                                    };
                                    sum.failed.push((batch.first_line + l.line - 1, what));
                                }
                            }
                            bar.inc(1);
                        }
                        bar.set_message(format!(
                            "created {} updated {} unchanged {} failed {}",
                            sum.created,
                            sum.updated,
                            sum.unchanged,
                            sum.failed.len()
                        ));
                    }
                    // One batch refused as a whole (e.g. too large for the server): its lines fail, the rest
                    // go on. Only a service that cannot be reached stops the run.
                    Err(e) if e.starts_with("cannot reach") => {
                        *fatal.lock().expect("not poisoned") = Some(e);
                        return;
                    }
                    Err(e) => {
                        let mut sum = summary.lock().expect("not poisoned");
                        for (k, line) in batch.body.lines().enumerate() {
                            if !line.trim().is_empty() {
                                sum.failed.push((batch.first_line + k, e.clone()));
                                bar.inc(1);
                            }
                        }
                    }
                }
            });
        }
    });
    bar.finish();
    if let Some(e) = fatal.into_inner().expect("not poisoned") {
        return Err(e);
    }
    let mut summary = summary.into_inner().expect("not poisoned");
    summary.failed.sort();
    Ok(summary)
}
