//! The README, run as written: its ```sh blocks in order, in one bash process, against the built binary
//! and a server of the test's own, so a walkthrough that no longer works fails `cargo test`. Also: the
//! README's install line names exactly the packages of `scripts/debian-packages.txt`, and its list of the
//! change feed's types is the service's.
//!
//! How the blocks run:
//! - The test starts `stafettlogg serve` itself (the README's first block, `cargo run`, holds a
//!   terminal) on a fresh DATA_DIR under /tmp, so its managed cluster lives there, with free ports for the
//!   API and the metrics. They replace `127.0.0.1:8080` and `127.0.0.1:9090` in the blocks.
//! - `cargo run -q -- ARGS` runs the built binary with ARGS (a shell function `cargo`). Any other cargo
//!   command fails the run, so a block that starts a server or runs cargo itself must be marked.
//! - A block right after `<!-- readme-test: skip (why) -->` is not run; the reason is printed.
//! - `set -Eeuo pipefail`: the first command that fails stops the run, and the test names its README line.
//! - `curl` fails on an HTTP error status (`--fail-with-body`), except where the README prints the status
//!   itself with `-w '%{http_code}\n'`. Such a line must end with the status it expects (`# 403 ...`), and
//!   another status fails the run. So a refusal the README shows on purpose is checked to be one, and any
//!   other refusal is an error.
//! - After each block, every variable it assigned (`CASE=...`) must be set and not `null`, which is what
//!   `jq -r .id` prints for an answer without an id.
//! - The server logs JSON (`LOG_FORMAT=json`). Its JSON lines go to `target/tmp/test-logs/readme-<pid>.jsonl`,
//!   which the run's log check reads; its other lines (the start-up banner) are kept for the failure
//!   message. Any answer of 500 or more, and any panic, fails the test.
//!
//! The server and its cluster are stopped when the test ends, also when it fails. A watchdog stops them if
//! the test process is killed.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::tools;

const SKIP_MARKER: &str = "<!-- readme-test: skip";
/// The whole walkthrough takes under a minute; this only ends a run that would never finish.
const RUN_LIMIT: Duration = Duration::from_secs(600);
/// A first start creates the cluster (initdb) and runs every migration.
const START_LIMIT: Duration = Duration::from_secs(180);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("read README.md")
}

/// One ```sh block of the README.
struct Block {
    /// The README line of its first line (1-based).
    first_line: usize,
    lines: Vec<String>,
    /// Why it is not run: the reason of the marker right before it.
    skip: Option<String>,
}

/// The README's ```sh blocks in order, each with its skip marker if it has one. A marker must stand right
/// before a ```sh block (only blank lines between), so it cannot drift onto another block.
fn sh_blocks(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut marker: Option<(usize, String)> = None;
    let mut open: Option<Block> = None;
    let mut in_other_fence = false;
    for (i, line) in readme.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if let Some(block) = open.as_mut() {
            if t == "```" {
                blocks.extend(open.take());
            } else {
                block.lines.push(line.to_string());
            }
        } else if in_other_fence {
            in_other_fence = t != "```";
        } else if t == "```sh" {
            let skip = marker.take().map(|(_, reason)| reason);
            open = Some(Block {
                first_line: n + 1,
                lines: Vec::new(),
                skip,
            });
        } else if let Some(rest) = t.strip_prefix(SKIP_MARKER) {
            let reason = rest
                .trim()
                .strip_suffix("-->")
                .map(str::trim)
                .and_then(|r| r.strip_prefix('('))
                .and_then(|r| r.strip_suffix(')'));
            let reason = reason.unwrap_or_else(|| {
                panic!("README line {n}: write the marker as `{SKIP_MARKER} (why) -->`")
            });
            assert!(marker.is_none(), "README line {n}: two skip markers");
            marker = Some((n, reason.to_string()));
        } else if !t.is_empty() {
            if let Some((m, _)) = &marker {
                panic!("README line {m}: a skip marker must stand right before the ```sh block it skips");
            }
            in_other_fence = t.starts_with("```");
        }
    }
    assert!(
        open.is_none() && !in_other_fence,
        "README: a code block is not closed"
    );
    blocks
}

/// What every block runs in: strict bash, and the `cargo`, `curl` and checking functions of the module doc.
const PREAMBLE: &str = r#"set -Eeuo pipefail
exec 2>&1
trap 'printf "\nreadme-test: exit status %s at script line %s\n" "$?" "$LINENO" >&2' ERR
cargo() {
  local all="$*"
  if [ "${1-}" = run ]; then
    shift
    if [ "${1-}" = -q ]; then shift; fi
    if [ "${1-}" = -- ]; then shift; "$STAFETTLOGG_BIN" "$@"; return; fi
  fi
  printf "\nreadme-test: cannot run 'cargo %s' here: mark a block that starts a server or runs cargo with a skip marker\n" "$all" >&2
  return 1
}
curl() {
  local a
  for a in "$@"; do
    case "$a" in -w | --write-out | -w?*) command curl "$@"; return ;; esac
  done
  command curl --fail-with-body "$@"
}
expect_status() {
  local want=$1 got
  shift
  got=$("$@")
  echo "$got"
  if [ "$got" != "$want" ]; then
    printf '\nreadme-test: the README expects HTTP %s here, the answer was %s\n' "$want" "$got" >&2
    return 1
  fi
}
readme_assigned() {
  local block=$1 v
  shift
  for v in "$@"; do
    if [ -z "${!v-}" ] || [ "${!v}" = null ]; then
      printf "\nreadme-test: \$%s is '%s' after the block at README line %s\n" "$v" "${!v-}" "$block" >&2
      return 1
    fi
  done
}
"#;

/// The script to run, and for each of its lines the README line it came from.
struct Script {
    text: String,
    readme_line: Vec<Option<usize>>,
}

impl Script {
    fn push(&mut self, line: &str, from: Option<usize>) {
        self.text.push_str(line);
        self.text.push('\n');
        self.readme_line.push(from);
    }
}

/// A line that prints the status with `-w '%{http_code}'`, rewritten to check the status its comment
/// names; any other line as it is.
fn checked_line(line: &str, n: usize) -> String {
    if !line.contains("%{http_code}") {
        return line.to_string();
    }
    let expecting = regex_lite::Regex::new(r"^(\s*)(curl\s.*?)\s+#\s*([1-5]\d\d)\b").unwrap();
    let caps = expecting.captures(line).unwrap_or_else(|| {
        panic!(
            "README line {n} prints an HTTP status: write it as one line starting with curl and ending \
             with the status it expects (`# 403 ...`)\n{line}"
        )
    });
    format!("{}expect_status {} {}", &caps[1], &caps[3], &caps[2])
}

fn script(blocks: &[Block], api_port: u16, metrics_port: u16) -> Script {
    let assignment = regex_lite::Regex::new(r"^([A-Z][A-Z0-9_]*)=").unwrap();
    let mut s = Script {
        text: String::new(),
        readme_line: Vec::new(),
    };
    for line in PREAMBLE.lines() {
        s.push(line, None);
    }
    for block in blocks.iter().filter(|b| b.skip.is_none()) {
        s.push(
            &format!("echo; echo '== README line {}'", block.first_line),
            None,
        );
        let mut assigned = BTreeSet::new();
        for (i, line) in block.lines.iter().enumerate() {
            let n = block.first_line + i;
            if let Some(c) = assignment.captures(line) {
                assigned.insert(c[1].to_string());
            }
            let line = line
                .replace("127.0.0.1:8080", &format!("127.0.0.1:{api_port}"))
                .replace("127.0.0.1:9090", &format!("127.0.0.1:{metrics_port}"));
            s.push(&checked_line(&line, n), Some(n));
        }
        let vars: Vec<&str> = assigned.iter().map(String::as_str).collect();
        s.push(
            &format!("readme_assigned {} {}", block.first_line, vars.join(" ")),
            None,
        );
    }
    s.push("echo '== the README ran to its end'", None);
    s
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `stafettlogg serve` on a DATA_DIR of its own, as the README's first block starts it, with its log read
/// as it comes.
struct Server {
    child: Option<Child>,
    dir: PathBuf,
    api_port: u16,
    /// Lines of standard error that are not JSON (the banner), and any panic message.
    console: Arc<Mutex<Vec<String>>>,
    /// The JSON log lines.
    json: Arc<Mutex<Vec<Value>>>,
    reader: Option<JoinHandle<()>>,
    watchdog: Option<Child>,
}

impl Server {
    fn start(dir: &Path, api_port: u16, metrics_port: u16) -> Server {
        let logs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-logs");
        std::fs::create_dir_all(&logs).unwrap();
        let log_path = logs.join(format!("readme-{}.jsonl", std::process::id()));
        let mut log = std::fs::File::create(&log_path).unwrap();
        let mut child = crate::support::binary()
            .arg("serve")
            // On the command line, so the watchdog can tell this process from any other.
            .arg("--data-dir")
            .arg(dir.join("data"))
            .env("BIND_ADDR", format!("127.0.0.1:{api_port}"))
            .env("METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
            .env("LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start stafettlogg serve");
        let stderr = child.stderr.take().unwrap();
        let console = Arc::new(Mutex::new(Vec::new()));
        let json = Arc::new(Mutex::new(Vec::new()));
        let (c, j) = (console.clone(), json.clone());
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) if v.is_object() => {
                        writeln!(log, "{line}").unwrap();
                        j.lock().unwrap().push(v);
                    }
                    _ => c.lock().unwrap().push(line),
                }
            }
        });
        let watchdog = watchdog(dir, child.id());
        Server {
            child: Some(child),
            dir: dir.to_path_buf(),
            api_port,
            console,
            json,
            reader: Some(reader),
            watchdog: Some(watchdog),
        }
    }

    /// Waits for `/health/ready`, asked with the binary's own `health` command.
    fn wait_ready(&mut self) {
        let started = Instant::now();
        let url = format!("http://127.0.0.1:{}", self.api_port);
        loop {
            let ready = crate::support::binary()
                .args(["health", "--url", &url])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            let exited = self.child.as_mut().unwrap().try_wait().unwrap();
            if exited.is_some() || started.elapsed() > START_LIMIT {
                self.stop();
                panic!(
                    "the server did not get ready ({exited:?}):\n{}",
                    self.console.lock().unwrap().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Ctrl-C, as a reader stops it: the server drains, then stops its cluster. Whatever is left after that
    /// (a server that did not stop, a postmaster) is killed, and the directory removed.
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if child.try_wait().unwrap().is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let pid_file = self.dir.join("data/postgres/postmaster.pid");
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string))
        {
            self.console.lock().unwrap().push(format!(
                "readme-test: the cluster was left running (pid {pid}); stopping it"
            ));
            let _ = Command::new("kill").args(["-QUIT", &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while pid_file.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A shell that outlives a killed test process: it stops the server (which stops its cluster), then any
/// postmaster left in the directory, and removes the directory. Each process is checked by its command
/// line naming the directory before it is signalled.
fn watchdog(dir: &Path, server: u32) -> Child {
    let script = format!(
        "while kill -0 {test} 2>/dev/null; do sleep 1; done; [ -d '{dir}' ] || exit 0; \
         grep -qs '{dir}' /proc/{server}/cmdline && kill -INT {server}; sleep 15; \
         pid=$(head -1 '{dir}/data/postgres/postmaster.pid' 2>/dev/null) && \
         grep -qs '{dir}' /proc/$pid/cmdline && kill -QUIT $pid; sleep 2; rm -rf '{dir}'",
        test = std::process::id(),
        dir = dir.display()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the watchdog")
}

/// Runs the script with bash in `work`; whether it succeeded, and everything it printed.
fn run_bash(script: &Path, work: &Path, data_dir: &Path) -> (bool, String) {
    let mut bash = Command::new("bash");
    // The settings the binary would otherwise take from this environment (a DATABASE_URL of CI's, ...).
    for (var, value) in crate::support::binary().get_envs() {
        if value.is_none() {
            bash.env_remove(var);
        }
    }
    let mut child = bash
        .arg(script)
        .current_dir(work)
        .env("STAFETTLOGG_BIN", env!("CARGO_BIN_EXE_stafettlogg"))
        .env("DATA_DIR", data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("start bash");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > RUN_LIMIT {
            // Its own process group: a hanging curl goes with it.
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = reader.join().unwrap();
    (status.is_some_and(|s| s.success()), output)
}

/// The README lines the ERR trap named, each with the two before it (bash names the last line of a
/// command that spans several), and the test's own messages, for the failure message.
fn failed_lines(output: &str, script: &Script, readme: &str) -> String {
    let readme: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    for l in output.lines().filter(|l| l.starts_with("readme-test: ")) {
        out.push(l.to_string());
        let Some(n) = l
            .strip_prefix("readme-test: exit status ")
            .and_then(|l| l.rsplit(' ').next()?.parse::<usize>().ok())
            .and_then(|line| {
                script
                    .readme_line
                    .get(line.checked_sub(1)?)
                    .copied()
                    .flatten()
            })
        else {
            continue;
        };
        for m in n.saturating_sub(2).max(1)..=n {
            out.push(format!("  README line {m}: {}", readme[m - 1]));
        }
    }
    out.join("\n")
}

#[test]
fn the_readme_walkthrough_runs_as_written_against_a_fresh_server() {
    tools::require("curl", "curl");
    tools::require("jq", "jq");
    tools::require("pdftotext", "poppler-utils");
    let readme = readme();
    let blocks = sh_blocks(&readme);
    for b in blocks.iter() {
        if let Some(why) = &b.skip {
            println!("README line {}: not run ({why})", b.first_line);
        }
    }
    // Short and under /tmp: the cluster's socket path has a length limit, and as root the cluster runs
    // as `postgres`, who must be able to walk down to it.
    let dir = PathBuf::from(format!("/tmp/slr-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("work")).unwrap();
    let (api_port, metrics_port) = (free_port(), free_port());
    let script = script(&blocks, api_port, metrics_port);
    let script_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("readme-walkthrough.sh");
    std::fs::write(&script_path, &script.text).unwrap();

    let mut server = Server::start(&dir, api_port, metrics_port);
    server.wait_ready();
    let (ok, output) = run_bash(&script_path, &dir.join("work"), &dir.join("data"));
    server.stop();
    let console = server.console.lock().unwrap().join("\n");
    println!("{output}");
    assert!(
        ok,
        "the README failed (the script is {}):\n{}\n\nits last output:\n{}\n\nthe server said:\n{console}",
        script_path.display(),
        failed_lines(&output, &script, &readme),
        tail(&output, 40),
    );
    assert!(output.contains("== the README ran to its end"), "{output}");
    let server_errors: Vec<String> = server
        .json
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l["status"].as_u64().is_some_and(|s| s >= 500))
        .map(|l| {
            format!(
                "{} {} -> {}",
                l["span"]["method"], l["span"]["route"], l["status"]
            )
        })
        .collect();
    assert!(server_errors.is_empty(), "server errors: {server_errors:?}");
    assert!(
        !console.contains("panicked"),
        "the server panicked:\n{console}"
    );
    // With LOG_FORMAT=json every line is JSON, the start-up lines (the cluster, the address) included.
    assert!(
        console.trim().is_empty(),
        "lines that are not JSON with LOG_FORMAT=json:\n{console}"
    );
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The one `apt-get install` line of the README's blocks, and its package names.
fn readme_install_line(readme: &str) -> Vec<String> {
    let lines: Vec<String> = sh_blocks(readme)
        .into_iter()
        .flat_map(|b| b.lines)
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("apt-get install ") || t.starts_with("sudo apt-get install ")
        })
        .collect();
    assert_eq!(lines.len(), 1, "the README has one install line: {lines:?}");
    let words = lines[0].split('#').next().unwrap().split_whitespace();
    words
        .skip_while(|w| *w != "install")
        .skip(1)
        .filter(|w| !w.starts_with('-'))
        .map(String::from)
        .collect()
}

#[test]
fn the_readme_install_line_names_the_packages_of_the_list_ci_installs() {
    let listed: BTreeSet<String> = tools::debian_packages().into_iter().collect();
    let named: BTreeSet<String> = readme_install_line(&readme()).into_iter().collect();
    assert!(
        named == listed,
        "README install line and scripts/debian-packages.txt disagree: only in the README {:?}, only in the \
         list {:?}",
        named.difference(&listed).collect::<Vec<_>>(),
        listed.difference(&named).collect::<Vec<_>>()
    );
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.contains("done < scripts/debian-packages.txt"),
        ".ci/run installs from scripts/debian-packages.txt"
    );
}

/// The change types the service writes: the words of `ChangeType`.
fn change_types_in_source() -> BTreeSet<String> {
    use strum::VariantArray;
    stafettlogg::changes::api::ChangeType::VARIANTS
        .iter()
        .map(|t| t.as_str().to_string())
        .collect()
}

/// The types the README's paragraph on the change feed names, written `case.opened|updated|closed`.
fn change_types_in_readme(readme: &str) -> BTreeSet<String> {
    let start = readme
        .find("Types: ")
        .expect("the README lists the feed's types after `Types: `");
    let paragraph = &readme[start..start + readme[start..].find("\n\n").unwrap()];
    let listed = regex_lite::Regex::new(r"`([a-z_]+)\.([a-z_|]+)`").unwrap();
    listed
        .captures_iter(paragraph)
        .flat_map(|c| {
            let resource = c[1].to_string();
            c[2].split('|')
                .map(|event| format!("{resource}.{event}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_readme_names_every_type_of_the_change_feed() {
    let in_source = change_types_in_source();
    let in_readme = change_types_in_readme(&readme());
    assert!(in_source.len() >= 20, "{in_source:?}");
    assert!(
        in_source == in_readme,
        "the README's feed types are off: missing {:?}, not written by the service {:?}",
        in_source.difference(&in_readme).collect::<Vec<_>>(),
        in_readme.difference(&in_source).collect::<Vec<_>>()
    );
}
