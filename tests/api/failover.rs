//! Failover that loses nothing acknowledged. Runs `scripts/failover.py` (a pg_auto_failover formation on
//! this machine, the service binary on a multi-host URL, a write load, kill -9 of the primary with a write
//! held in flight) and checks its figures. Durations are reported, not asserted as speed targets: CI's
//! two busy cores make them vary. The feed checks compare with the long poll's own look interval, a bound
//! that follows from the design (see `assert_listener_back`), and a generous limit only ends a run that
//! would never finish.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use stafettlogg::changes::handlers::POLL_EVERY_WHEN_LISTENING;

/// The whole run (formation, load, failover, cleanup) takes about 20-60 s.
const RUN_LIMIT: Duration = Duration::from_secs(240);

#[test]
fn a_killed_primary_loses_no_acknowledged_write_and_the_service_reconnects_without_a_restart() {
    let found = Command::new("sh")
        .args(["-c", "command -v pg_autoctl"])
        .output()
        .expect("run sh");
    assert!(
        found.status.success(),
        "pg_autoctl is missing: install it (Debian: apt-get install postgresql-15-auto-failover; \
         .ci/run does) to run the failover test"
    );
    let (status, figures, stderr) = run_script();
    println!("failover figures: {figures}");
    let context = || format!("{figures:#}\n{stderr}");
    assert!(figures["acknowledged"].as_u64() > Some(0), "{}", context());
    assert_writes_kept(&figures, &context);
    assert_failures_answered(&figures, &context);
    assert_listener_back(&figures, &context);
    assert_eq!(
        figures["service_kept_running"],
        true,
        "the service reconnects without a restart: {}",
        context()
    );
    assert!(
        status.success(),
        "the script reported a failure: {}",
        context()
    );
}

/// Where the service's own log goes: beside the other test logs, so the run's log check reads it too.
fn service_log() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-logs");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("failover-{}.jsonl", std::process::id()))
}

/// Runs the script to its end: its exit status, its figures (the last line of stdout) and its stderr.
fn run_script() -> (ExitStatus, Value, String) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/failover.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_stafettlogg"))
        .arg("--service-log")
        .arg(service_log())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs scripts/failover.py");
    // Read both pipes while it runs, so a full pipe never blocks the script.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            // SIGTERM: the script removes its formation and directory before it exits.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            std::thread::sleep(Duration::from_secs(30));
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the failover run did not finish within {RUN_LIMIT:?}:\n{}",
                err_reader.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stdout = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    let line = stdout.lines().last().unwrap_or_default();
    let figures: Value = serde_json::from_str(line).unwrap_or_else(|_| {
        panic!("no figures from the failover run (exit {status}):\n{stdout}\n{stderr}")
    });
    (status, figures, stderr)
}

/// Every acknowledged write is stored on the promoted node exactly once, and at least one write was in
/// flight at the kill: sent before it, answered after it (the script also holds one there on purpose).
fn assert_writes_kept(figures: &Value, context: &dyn Fn() -> String) {
    assert_eq!(
        figures["lost"],
        0,
        "acknowledged writes lost: {}",
        context()
    );
    // Each marker is sent once; one stored twice was written twice by the service.
    assert_eq!(
        figures["stored_more_than_once"],
        0,
        "markers stored more than once: {}",
        context()
    );
    assert_eq!(
        figures["acknowledged_not_stored_once"],
        0,
        "acknowledged writes not stored exactly once: {}",
        context()
    );
    assert!(
        figures["spanning_kill"].as_u64() >= Some(1),
        "no write was sent before the kill and answered after it: {}",
        context()
    );
    let held = figures["held_write"].as_array().expect("held_write");
    assert_eq!(held.len(), 1, "{}", context());
    assert!(
        held[0]["status"].is_u64()
            && held[0]["sent_before_kill_s"].as_f64() > Some(0.0)
            && held[0]["answered_after_kill_s"].as_f64() > Some(0.0),
        "the held write spans the kill and is answered: {}",
        context()
    );
}

/// A write refused during the failover is a 503 with `Retry-After`, none hangs, and writes succeed on
/// the promoted node until the end.
fn assert_failures_answered(figures: &Value, context: &dyn Fn() -> String) {
    assert_eq!(
        figures["hung_or_failed_requests"],
        0,
        "requests hung: {}",
        context()
    );
    assert_eq!(
        figures["other_statuses"],
        serde_json::json!({}),
        "every failed write answers 503: {}",
        context()
    );
    assert_eq!(
        figures["status_503_without_retry_after"],
        0,
        "{}",
        context()
    );
    assert!(
        figures["acknowledged_after_kill"].as_u64() > Some(0),
        "writes succeed on the promoted node: {}",
        context()
    );
    assert_eq!(figures["still_failing_at_end"], false, "{}", context());
}

/// The last round of the long poll check of this kind (the script repeats a round only when its write
/// was done too late to tell the listener's modes apart): (seconds the poll took, whether it saw the write).
fn feed_round(figures: &Value, kind: &str, context: &dyn Fn() -> String) -> (f64, bool) {
    let round = figures["feed_rounds"]
        .as_array()
        .expect("feed_rounds")
        .iter()
        .rfind(|r| r["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} round: {}", context()));
    assert_eq!(
        round["conclusive"],
        true,
        "the {kind} write was not done well before the poll's own look: {}",
        context()
    );
    let took = round["took_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("the {kind} long poll did not answer: {}", context()));
    (took, round["seen"] == true)
}

/// The service's listener found the promoted node. While it is connected, a long poll looks on its own
/// only every `POLL_EVERY_WHEN_LISTENING`; while it is not, every 0.1 s. So an event written straight into
/// the database (nobody notifies it) can answer the poll no sooner than that look, unless the listener
/// is disconnected: that proves the connected mode. A write through the service then answers it before
/// the look, which only its notification can do: that proves the listener hears the promoted node.
fn assert_listener_back(figures: &Value, context: &dyn Fn() -> String) {
    let look = POLL_EVERY_WHEN_LISTENING.as_secs_f64();
    assert_eq!(
        figures["poll_fallback_s"].as_f64(),
        Some(look),
        "the script's idea of the poll's own look is the service's: {}",
        context()
    );
    let (took, seen) = feed_round(figures, "unnotified", context);
    assert!(seen, "the un-notified event was found: {}", context());
    assert!(
        took >= look,
        "an event nobody notified answered the long poll after {took:.2} s, before its own look at \
         {look} s: the service polls as if its listener were disconnected: {}",
        context()
    );
    let (took, seen) = feed_round(figures, "notified", context);
    assert!(
        seen,
        "the write through the service was found: {}",
        context()
    );
    assert!(
        took < look,
        "a write through the service answered the long poll only after {took:.2} s, at its own look \
         ({look} s): no notification reached it: {}",
        context()
    );
}
