//! The service as its own process, the release binary with `serve`, configured as in production but for
//! the development token secret: a separate process so its memory can be read from /proc and so wrk
//! measures what a deployment would run.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::cluster::BenchCluster;

/// Signs the tokens the bench mints; the server is started with it as JWT_HS256_SECRET.
pub const JWT_SECRET: &str = "api-bench-secret-api-bench-secret-0123456789";

pub struct Server {
    child: Child,
    pub base: String,
    metrics: String,
    log: PathBuf,
    agent: ureq::Agent,
}

/// Memory of the server process in kB: resident now and the peak since start.
#[derive(Debug, Clone, Copy)]
pub struct Rss {
    pub rss_kb: u64,
    pub hwm_kb: u64,
}

/// The counters of the service's Prometheus text that tell what a run cost.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub requests: f64,
    /// `None` when the build has no `stafettlogg_db_round_trips_total`.
    pub round_trips: Option<f64>,
}

fn free_port() -> u16 {
    // Bound and released: the server binds it a moment later; a clash is unlikely and fails loudly.
    let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("an address").port()
}

impl Server {
    pub fn start(cluster: &BenchCluster, dir: &Path, rust_log: &str) -> Server {
        Server::start_build(
            Path::new(env!("CARGO_BIN_EXE_stafettlogg")),
            "server",
            cluster,
            dir,
            rust_log,
        )
    }

    /// [`Server::start`] with another build of the binary (`BENCH_BASELINE`), its files named `name`.
    pub fn start_build(
        binary: &Path,
        name: &str,
        cluster: &BenchCluster,
        dir: &Path,
        rust_log: &str,
    ) -> Server {
        let (port, metrics_port) = (free_port(), free_port());
        let log = dir.join(format!("{name}.log"));
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let child = Command::new(binary)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", cluster.owner_url())
            .env("DATABASE_APP_URL", cluster.service_url())
            .env("NATIONAL_ID_KEY", key)
            .env("JWT_HS256_SECRET", JWT_SECRET)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
            .env("DATABASE_POOL_SIZE", "8")
            // wrk is one caller at thousands of requests a second: the service's limits are not measured.
            .env("RATE_LIMIT_PER_MINUTE", "0")
            .env("RATE_LIMIT_WRITES_PER_MINUTE", "0")
            // The guide scenario sends tens of thousands of requests a second from one address: with the
            // public routes' limit it measured 429s.
            .env("RATE_LIMIT_PUBLIC_PER_MINUTE", "0")
            .env("DATA_DIR", dir.join(format!("{name}-data")))
            .env("RUST_LOG", rust_log)
            // To measure other allocator settings than the binary's own (src/main.rs), which this replaces.
            .envs(std::env::vars().filter(|(k, _)| k == "GLIBC_TUNABLES"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).expect("server log"))
            .stderr(std::fs::File::create(log.with_extension("err")).expect("server log"))
            .spawn()
            .expect("the stafettlogg binary");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
            log,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(600)))
                .build()
                .into(),
        };
        watch(server.child.id(), dir);
        server.wait_ready();
        println!(
            "{name}: {} (pid {}), metrics {}",
            server.base,
            server.child.id(),
            server.metrics
        );
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let url = format!("{}/health/ready", self.base);
        while Instant::now() < deadline {
            if let Ok(res) = self.agent.get(&url).call() {
                if res.status().as_u16() == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the service exited ({status}):\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("the service did not become ready:\n{}", self.log_tail());
    }

    /// The last lines the server wrote, to explain a failure.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        for f in [self.log.clone(), self.log.with_extension("err")] {
            let all = std::fs::read_to_string(&f).unwrap_or_default();
            let lines: Vec<&str> = all.lines().collect();
            text.push_str(&lines[lines.len().saturating_sub(20)..].join("\n"));
            text.push('\n');
        }
        text
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    pub fn rss(&self) -> Rss {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Rss {
            rss_kb: kb("VmRSS:"),
            hwm_kb: kb("VmHWM:"),
        }
    }

    /// Sums the request and round-trip counters over every route: during a run only the scenario's
    /// route is called, and the scrape itself is on another listener and counted by neither.
    pub fn counters(&self) -> Counters {
        let mut res = self.agent.get(&self.metrics).call().expect("the metrics");
        let text = res.body_mut().read_to_string().expect("metrics text");
        let sum = |name: &str| {
            let values: Vec<f64> = text
                .lines()
                .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
                .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
                .collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>())
        };
        Counters {
            requests: sum("stafettlogg_http_requests_total").unwrap_or(0.0),
            round_trips: sum("stafettlogg_db_round_trips_total"),
        }
    }
}

/// Drop guards do not run when this process is killed (Ctrl-C, `kill`): a small shell process outlives
/// it, then stops the server and removes the bench's directory. The cluster has a watchdog of its own.
fn watch(server_pid: u32, dir: &Path) {
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 1; done; kill {server_pid} 2>/dev/null; sleep 1; rm -rf '{dir}'",
        me = std::process::id(),
        dir = dir.display()
    );
    Command::new("sh")
        .args(["-c", &script])
        // Its own process group, so the Ctrl-C that ends the bench does not end the watchdog too.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        // Never waited for: it is meant to outlive this process (init reaps it then).
        .map(|_watchdog| ())
        .expect("the cleanup watchdog");
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first so actix drains and the pool closes its connections before the cluster stops.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
