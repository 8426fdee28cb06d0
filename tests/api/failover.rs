//! Issue 14, item 2: failover that loses nothing acknowledged. Runs `scripts/failover.py` (a
//! pg_auto_failover formation on this machine, the service binary on a multi-host URL, a write load, kill -9
//! of the primary) and checks its figures. Timing is reported, not asserted: CI's two busy cores make it
//! vary; only a generous bound ends a run that would never finish.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The whole run (formation, load, failover, cleanup) takes about 20 s on an idle machine.
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
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/failover.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_stafettlogg"))
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
    println!("failover figures: {figures}");
    let context = || format!("{figures:#}\n{stderr}");
    assert!(figures["acknowledged"].as_u64() > Some(0), "{}", context());
    assert_eq!(
        figures["lost"],
        0,
        "acknowledged writes lost: {}",
        context()
    );
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
    assert_eq!(
        figures["long_poll_woken_after_failover"],
        true,
        "the listener found the promoted node: a write woke the long poll before its own look: {}",
        context()
    );
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
