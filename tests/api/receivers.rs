//! Real peers for the notification and webhook tests: an SMTP server (Python's aiosmtpd, pinned in
//! tests/tools/requirements.txt) that files each message into a maildir, and an HTTP receiver
//! (tests/tools/webhook_receiver.py) that verifies Standard Webhooks signatures with the reference library
//! and records every request. Each runs as a child process on a free port, stopped when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::tools;

/// A port nobody listens on now (bound and released: a peer may take it a moment later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scratch(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "stafettlogg-{what}-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits until something listens on `port` (or fails the test after 30 s).
fn wait_listening(port: u16, child: &mut Child) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the peer on port {port} exited: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub struct MailSink {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

/// The scratch directory of a peer's files (`scratch`), removed with the peer.
fn remove_scratch_of(file: &std::path::Path) {
    if let Some(dir) = file.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

impl MailSink {
    pub fn start(port: u16) -> MailSink {
        // The maildir is created by the sink itself (an empty directory is no maildir to it).
        let dir = scratch("maildir").join("mail");
        let mut child = Command::new(tools::python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the SMTP sink (aiosmtpd)");
        wait_listening(port, &mut child);
        MailSink { port, dir, child }
    }

    /// The raw messages received so far (headers and MIME parts as they came over SMTP).
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("new")) else {
            return vec![];
        };
        entries
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect()
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        remove_scratch_of(&self.dir);
    }
}

pub struct Receiver {
    pub port: u16,
    record: PathBuf,
    child: Child,
}

pub struct Behaviour<'a> {
    pub secret: Option<&'a str>,
    pub fail_first: u32,
    pub fail_always: bool,
}

impl Receiver {
    pub fn start(port: u16, b: Behaviour) -> Receiver {
        let record = scratch("receiver").join("requests.jsonl");
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/tools/webhook_receiver.py");
        let mut cmd = Command::new(tools::python());
        cmd.arg(script).arg(port.to_string()).arg(&record);
        if let Some(secret) = b.secret {
            cmd.args(["--secret", secret]);
        }
        cmd.args(["--fail-first", &b.fail_first.to_string()]);
        if b.fail_always {
            cmd.arg("--fail-always");
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .spawn()
            .expect("start the webhook receiver");
        wait_listening(port, &mut child);
        Receiver {
            port,
            record,
            child,
        }
    }

    /// Every request received so far: `{id, verified, status, path, body}`.
    pub fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        remove_scratch_of(&self.record);
    }
}

/// Polls `check` every 100 ms until it gives something, for at most `secs` seconds.
pub async fn eventually<T>(secs: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "gave up waiting: {what}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// [`eventually`] for a check that asks the server.
pub async fn eventually_async<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "gave up waiting: {what}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}
