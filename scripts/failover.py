#!/usr/bin/env python3
"""Failover that loses nothing acknowledged: a measured kill -9 of the primary under a write load.

    scripts/failover.py path/to/stafettlogg [--workers 4] [--before 4] [--after 3] [--give-up 60]
                        [--service-log FILE] [--keep]

What it does, all on 127.0.0.1, in a fresh directory under /tmp that it removes at the end:

1. Builds a pg_auto_failover formation: a monitor, a primary and a synchronous secondary, each with its
   own data directory and port (`pg_autoctl create monitor|postgres`, `pg_autoctl run`). The monitor and
   the keepers are tuned so that a dead primary is noticed and replaced in seconds (see FAILOVER.md).
   Before any load it checks that the primary names the secondary in `synchronous_standby_names`, so a
   write is acknowledged only once the secondary has it.
2. Starts the service binary against the formation with a multi-host keyword/value DATABASE_URL
   (`host=127.0.0.1,127.0.0.1 port=P1,P2 ... target_session_attrs=read-write`), LOG_FORMAT=json and its
   stderr in `--service-log` (default: the run's directory), and waits for readiness.
3. Drives a bounded write load: `--workers` threads, each appending log entries to its own case, every
   entry's body a unique marker, each write's send and answer instants recorded; each request has a
   client timeout (a request that times out "hung"). Another thread polls /health/ready.
4. After `--before` seconds holds one more write in flight on purpose (a session on the primary locks
   the feed counter that write needs; see HeldWrite) and, once the primary shows it waiting, kills the
   primary node whole with SIGKILL: its pg_autoctl keeper (so nothing restarts it), its postmaster and
   every backend. Writes go on until they succeed again on the promoted node (giving up `--give-up`
   seconds after the kill), then `--after` seconds more.
5. Stops the load and counts, as superuser on the promoted node, how often each marker is stored: every
   write acknowledged with 2xx must be there exactly once, and no marker twice.
6. Checks that the service's listener (LISTEN/NOTIFY between instances) is back, on the promoted node: a
   change event written straight into the database, which nobody notifies, must not answer a long poll
   before the poll's own 5 s look (a service whose listener never reconnected looks every 0.1 s), while
   a write through the service must answer it before that look (only the notification can).
7. Prints one JSON line of figures (last line of stdout) and cleans up every process and directory, also
   when it fails or is interrupted. Progress goes to stderr. Exit status 0 when nothing acknowledged was
   lost or stored twice, at least one write spanned the kill, no request hung, every failure was a 503
   with Retry-After, writes succeeded after the kill, the listener passed both feed checks and the service
   kept running (no restart); 1 otherwise; 2 when the formation could not be built.

Needs pg_autoctl (Debian: postgresql-15-auto-failover) and the PostgreSQL 15 server binaries. As root it
runs PostgreSQL and pg_autoctl as the `postgres` user (they refuse root); otherwise as the current user.
Standard library only.
"""

import argparse
import base64
import collections
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

TENANT = "3805"
SERVICE = "barnehage-solstua"
REQUEST_TIMEOUT = 10.0  # a write that takes longer than this "hung" (the service answers 503 within ~3 s)

# Monitor settings (milliseconds): see FAILOVER.md for why these values.
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": 1000,
    "pgautofailover.health_check_timeout": 1000,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 500,
    "pgautofailover.node_considered_unhealthy_timeout": 2000,
    "pgautofailover.startup_grace_period": 1000,
    # The monitor waits this long for the old primary to report itself demoted before it lets the
    # standby take writes. It must stay above the keepers' network partition timeout (below), after which
    # a primary that lost both the monitor and its standby demotes itself.
    "pgautofailover.primary_demote_timeout": 3000,
}
KEEPER_NETWORK_PARTITION_TIMEOUT_S = 2


def log(msg):
    print(f"[failover {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class SetupError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir():
    """The server binaries pg_autoctl is built for (15 on Debian's postgresql-15-auto-failover)."""
    for v in ("15",):
        d = f"/usr/lib/postgresql/{v}/bin"
        if os.path.exists(f"{d}/pg_ctl"):
            return d
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise SetupError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return os.path.dirname(found[-1])


class Formation:
    """Monitor + primary + synchronous secondary, each a process group of its own."""

    def __init__(self, root):
        self.root = root
        self.bindir = pg_bindir()
        self.as_postgres = os.geteuid() == 0
        # The nodes' superuser: the operating system user they run as (initdb's default).
        self.superuser = "postgres" if self.as_postgres else pwd.getpwuid(os.geteuid()).pw_name
        self.ports = {"monitor": free_port(), "node1": free_port(), "node2": free_port()}
        self.procs = {}  # name -> Popen of `pg_autoctl run`
        self.env = {
            "HOME": root,
            "XDG_CONFIG_HOME": f"{root}/config",
            "XDG_DATA_HOME": f"{root}/share",
            "XDG_RUNTIME_DIR": f"{root}/run",
            "PATH": f"{self.bindir}:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            # pg_autoctl reaches its own postgres through this socket directory (see `initdb`).
            "PGHOST": f"{root}/sock",
        }
        for d in ("config", "share", "run", "sock"):
            os.makedirs(f"{root}/{d}", mode=0o700, exist_ok=True)
        if self.as_postgres:
            shutil.chown(root, "postgres")
            for d in ("config", "share", "run", "sock"):
                shutil.chown(f"{root}/{d}", "postgres")

    def cmd(self, *args):
        env = [f"{k}={v}" for k, v in self.env.items()]
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        return prefix + ["env", "-i"] + env + list(args)

    def run(self, *args, timeout=120):
        out = subprocess.run(self.cmd(*args), capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise SetupError(f"{' '.join(args[:3])} failed ({out.returncode}):\n{out.stderr[-3000:]}")
        return out.stdout

    def pgdata(self, name):
        return f"{self.root}/{name}"

    def initdb(self, name):
        """A data directory whose Unix socket lives in the run's directory: pg_autoctl has no option for
        it, and the default (/var/run/postgresql) is shared, may not be writable, and keeps the socket and
        lock file of a node killed with SIGKILL. pg_autoctl takes an existing data directory as it is; a
        secondary's copy of the primary (pg_basebackup) brings the setting along."""
        self.run(f"{self.bindir}/initdb", "--pgdata", self.pgdata(name), "--auth", "trust",
                 "--encoding", "UTF8", "--locale", "C", "--no-instructions")
        with open(f"{self.pgdata(name)}/postgresql.conf", "a") as f:
            f.write(f"\nunix_socket_directories = '{self.root}/sock'\n")

    def start(self, name):
        logf = open(f"{self.root}/{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            self.cmd("pg_autoctl", "run", "--pgdata", self.pgdata(name)),
            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)

    def sql(self, port, query, dbname="postgres"):
        return self.run("psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", str(port), "-U", self.superuser,
                        "-d", dbname, "-c", query, timeout=30).strip()

    def monitor_uri(self):
        return f"postgres://autoctl_node@127.0.0.1:{self.ports['monitor']}/pg_auto_failover?sslmode=disable"

    def states(self):
        rows = self.sql(self.ports["monitor"],
                        "SELECT nodename, reportedstate, goalstate FROM pgautofailover.node ORDER BY nodeid",
                        dbname="pg_auto_failover")
        return {r.split("|")[0]: tuple(r.split("|")[1:]) for r in rows.splitlines() if r}

    def wait(self, what, check, timeout=90):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (SetupError, subprocess.TimeoutExpired) as e:
                last = e
            time.sleep(0.3)
        raise SetupError(f"timed out waiting for {what} ({last})")

    def build(self):
        pgctl = f"{self.bindir}/pg_ctl"
        common = ["--hostname", "127.0.0.1", "--listen", "127.0.0.1", "--auth", "trust", "--no-ssl",
                  "--pgctl", pgctl]
        log(f"monitor on port {self.ports['monitor']}")
        self.initdb("monitor")
        self.run("pg_autoctl", "create", "monitor", "--pgdata", self.pgdata("monitor"),
                 "--pgport", str(self.ports["monitor"]), *common)
        self.start("monitor")
        self.wait("the monitor", lambda: self.sql(self.ports["monitor"], "SELECT 1",
                                                  dbname="pg_auto_failover") == "1")
        sets = "; ".join(f"ALTER SYSTEM SET {k} = {v}" for k, v in MONITOR_SETTINGS.items())
        for stmt in sets.split("; ") + ["SELECT pg_reload_conf()"]:
            self.sql(self.ports["monitor"], stmt, dbname="pg_auto_failover")
        for name in ("node1", "node2"):
            log(f"{name} on port {self.ports[name]}")
            if name == "node1":
                self.initdb(name)
            self.run("pg_autoctl", "create", "postgres", "--pgdata", self.pgdata(name),
                     "--pgport", str(self.ports[name]), "--name", name, "--dbname", "stafettlogg",
                     "--monitor", self.monitor_uri(), *common)
            self.run("pg_autoctl", "config", "set", "--pgdata", self.pgdata(name),
                     "timeout.network_partition_timeout", str(KEEPER_NETWORK_PARTITION_TIMEOUT_S))
            self.start(name)
            if name == "node1":
                self.wait("node1 to be a single primary",
                          lambda: self.states().get("node1") in (("single", "single"), ("primary", "primary")))
        self.wait("node1 primary and node2 secondary",
                  lambda: self.states() == {"node1": ("primary", "primary"),
                                            "node2": ("secondary", "secondary")})
        self.wait("synchronous_standby_names on the primary",
                  lambda: self.sql(self.ports["node1"], "SHOW synchronous_standby_names") != "")
        return self.sql(self.ports["node1"], "SHOW synchronous_standby_names")

    def postmaster_pid(self, name):
        try:
            with open(f"{self.pgdata(name)}/postmaster.pid") as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def kill_node(self, name):
        """SIGKILL to the node's keeper (its whole process group), its postmaster and every backend.
        Returns the time the last signal was sent (the scan of /proc before it takes a while)."""
        pm = self.postmaster_pid(name)
        victims = children_of(pm) if pm else []
        proc = self.procs.get(name)
        # The first signal may already cut a connection: a write answered between the first and the last
        # signal still spanned the kill.
        self.kill_started = time.monotonic()
        if proc and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in ([pm] if pm else []) + victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        killed = time.monotonic()
        if proc:
            proc.wait(timeout=10)
        return killed

    def stop(self):
        for name in ("node2", "node1", "monitor"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                # Its postgres may still run without its keeper.
                self.kill_node(name)
                continue
            try:
                subprocess.run(self.cmd("pg_autoctl", "stop", "--pgdata", self.pgdata(name), "--immediate"),
                               capture_output=True, timeout=20)
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            self.kill_node(name)


def children_of(pid):
    kids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                kids.append(int(stat.split("/")[2]))
        except (OSError, IndexError, ValueError):
            pass
    return kids


class Service:
    def __init__(self, binary, root, database_url, log_path=None):
        self.binary = binary
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update({
            "DATABASE_URL": database_url,
            "NATIONAL_ID_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "JWT_HS256_SECRET": secrets.token_urlsafe(48),
            "BIND_ADDR": f"127.0.0.1:{self.port}",
            "DATA_DIR": f"{root}/service-data",
            "RUST_LOG": os.environ.get("FAILOVER_RUST_LOG", "info"),
            # One JSON object a line, so whoever collects the file can check every line the service wrote
            # during the failover (the test's run-wide log check).
            "LOG_FORMAT": "json",
            # The write load is one caller as fast as it can go: the failover is measured, not the limits.
            "RATE_LIMIT_PER_MINUTE": "0",
            "RATE_LIMIT_WRITES_PER_MINUTE": "0",
        })
        self.env.pop("DATABASE_APP_URL", None)
        # Only the service's own stderr goes here; pg_autoctl's logs stay in the run's directory.
        self.log_path = log_path or f"{root}/service.jsonl"
        self.stdout_path = f"{root}/service.stdout"
        self.proc = None

    def start(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.log_path)), exist_ok=True)
        logf = open(self.log_path, "ab")
        outf = open(self.stdout_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=outf, stderr=logf,
                                     start_new_session=True)

    def log_tail(self, chars):
        try:
            return open(self.log_path, errors="replace").read()[-chars:]
        except OSError as e:
            return f"(no log: {e})"

    def listener_connects(self):
        """How often the service's listener (LISTEN/NOTIFY between instances) connected, from its log."""
        n = 0
        try:
            with open(self.log_path, errors="replace") as f:
                for line in f:
                    if "listening for other instances' changes" in line:
                        n += 1
        except OSError:
            pass
        return n

    def token(self, sub, role, service=None, tenant=TENANT):
        args = [self.binary, "token", "--tenant", tenant, "--sub", sub, "--name", sub.title(),
                "--role", role, "--ttl", "3600"]
        if service:
            args += ["--service", service]
        return subprocess.run(args, env=self.env, capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def http(method, url, token=None, body=None, timeout=REQUEST_TIMEOUT):
    """(status, headers, parsed body or text); status None when the request timed out or failed."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
            status, headers = res.status, res.headers
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, e.headers
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    return status, headers, payload


def wait_ready(service, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.proc.poll() is not None:
            raise SetupError(f"the service exited ({service.proc.returncode}); see its log:\n"
                             + service.log_tail(3000))
        try:
            if http("GET", f"{service.base}/health/ready", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SetupError("the service did not become ready")


Result = collections.namedtuple("Result", "worker seq marker start end status retry_after error detail")


class Load:
    def __init__(self, service, token, cases, run_id):
        self.service, self.token, self.cases, self.run_id = service, token, cases, run_id
        self.results = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.readiness = []  # (start, end, status)

    def write(self, worker, seq, url, token):
        """One log entry whose body is a marker of its own; when it was sent and answered, and how, go
        into `results`. Returns the status (None when the request timed out or failed)."""
        marker = f"failover-{self.run_id}-w{worker}-{seq}"
        body = {"kind": "note", "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "body": marker}
        start = time.monotonic()
        status, retry_after, error, detail = None, None, None, None
        try:
            status, headers, payload = http("POST", url, token, body)
            retry_after = headers.get("Retry-After")
            if status >= 400 and isinstance(payload, dict):
                detail = payload.get("detail")
        except (socket.timeout, TimeoutError) as e:
            error = f"timeout: {e}"
        except (urllib.error.URLError, OSError) as e:
            error = f"{type(e).__name__}: {e}"
        end = time.monotonic()
        with self.lock:
            self.results.append(Result(worker, seq, marker, start, end, status, retry_after, error, detail))
        return status

    def worker(self, i, case_id):
        url = f"{self.service.base}/api/v1/cases/{case_id}/entries"
        seq = 0
        while not self.stop.is_set():
            seq += 1
            status = self.write(i, seq, url, self.token)
            # A bounded load: a short pause after a success, a longer one after a failure.
            self.stop.wait(0.05 if status is not None and 200 <= status < 300 else 0.2)

    def poll_ready(self):
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                status = http("GET", f"{self.service.base}/health/ready", timeout=REQUEST_TIMEOUT)[0]
            except OSError:
                status = None
            self.readiness.append((start, time.monotonic(), status))
            self.stop.wait(0.25)

    def successes_after(self, t):
        with self.lock:
            return [r for r in self.results if r.start >= t and r.status is not None and 200 <= r.status < 300]


# The municipality of the held write: no load worker writes there, so only the held write waits on the
# lock of its feed counter.
HELD_TENANT = "4601"
HOLDER_APP = "failover-holder"
BLOCKED_ON_HOLDER = (
    "SELECT count(*) FROM pg_stat_activity w, pg_stat_activity h "
    f"WHERE h.application_name = '{HOLDER_APP}' AND w.pid <> h.pid AND h.pid = ANY(pg_blocking_pids(w.pid))")


class HeldWrite:
    """A write certainly in flight when the primary dies, whatever the timing of the load's own writes.

    A session on the primary locks the feed counter row of HELD_TENANT; a write to that municipality's
    case then inserts its log entry and waits for the lock (the feed event is a transaction's last
    statement), uncommitted. The kill comes once the primary shows that write blocked by the session, so
    the request was sent before the kill and is answered after it: the service must answer it like any
    other write cut by the failover (a 503, nothing stored twice)."""

    def __init__(self, formation, load, token, case_id):
        self.formation, self.load, self.token, self.case_id = formation, load, token, case_id
        self.holder = None
        self.thread = None

    def start(self, timeout=20):
        f = self.formation
        port = f.ports["node1"]
        lock = (f"BEGIN; SELECT 1 FROM feed_counters WHERE municipality = '{HELD_TENANT}' FOR UPDATE; "
                "SELECT pg_sleep(600)")
        self.holder = subprocess.Popen(
            f.cmd("psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", f.superuser,
                  "-d", f"dbname=stafettlogg application_name={HOLDER_APP}", "-c", lock),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        f.wait("the lock on the held write's feed counter", lambda: f.sql(
            port, f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{HOLDER_APP}' "
                  "AND wait_event = 'PgSleep'") == "1", timeout)
        url = f"{self.load.service.base}/api/v1/cases/{self.case_id}/entries"
        self.thread = threading.Thread(target=self.load.write, args=("held", 1, url, self.token), daemon=True)
        self.thread.start()
        f.wait("the held write to wait for the lock", lambda: f.sql(port, BLOCKED_ON_HOLDER) == "1", timeout)

    def join(self):
        if self.thread:
            self.thread.join(timeout=REQUEST_TIMEOUT + 5)

    def stop(self):
        if self.holder and self.holder.poll() is None:
            try:
                os.killpg(self.holder.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.holder.wait(timeout=10)


# The long poll's own look while its instance's listener is connected (crate::changes,
# POLL_EVERY_WHEN_LISTENING); while it is not, the poll looks every 0.1 s (POLL_EVERY).
POLL_FALLBACK = 5.0
# A round tells the two apart only if its write was done well before the poll's first own look: a
# service whose listener is not connected finds the write within ~0.1 s of it either way.
CONCLUSIVE_BEFORE = POLL_FALLBACK - 1.0
# Rounds of each kind at most, until one is conclusive (only a very slow write makes one inconclusive).
ROUNDS = 3


def feed_round(service, formation, port, integration, write):
    """A long poll, and `write()` 0.5 s after the poll was sent. Times in seconds since the poll was sent."""
    after = int(formation.sql(port, "SELECT coalesce(max(seq), 0) FROM change_events "
                                    f"WHERE municipality = '{TENANT}'", dbname="stafettlogg") or 0)
    answer = {}
    sent = threading.Event()

    def poll():
        answer["sent"] = time.monotonic()
        sent.set()
        status, _, page = http("GET", f"{service.base}/api/v1/changes?after={after}&wait=20", integration,
                               timeout=30)
        answer["took"] = time.monotonic() - answer["sent"]
        answer["seen"] = status == 200 and isinstance(page, dict) and page.get("next_after", after) > after

    t = threading.Thread(target=poll)
    t.start()
    sent.wait()
    time.sleep(0.5)
    written = write()
    write_done = time.monotonic() - answer["sent"]
    t.join(timeout=35)
    return {"took_s": answer.get("took"), "seen": answer.get("seen", False), "written": written,
            "write_done_s": write_done, "conclusive": written and write_done < CONCLUSIVE_BEFORE}


def unnotified_write(formation, port, case_id):
    """A change event written straight into the promoted node: no instance notifies it."""
    try:
        formation.sql(port, "WITH counter AS (UPDATE feed_counters SET last_seq = last_seq + 1 "
                            f"WHERE municipality = '{TENANT}' RETURNING last_seq) "
                            "INSERT INTO change_events (seq, municipality, case_id, type) "
                            f"SELECT last_seq, '{TENANT}', '{case_id}', 'entry.added' FROM counter",
                      dbname="stafettlogg")
        return True
    except (SetupError, subprocess.TimeoutExpired) as e:
        log(f"the direct write failed: {e}")
        return False


def feed_checks(service, formation, port, case_id, token, integration):
    """Is the service's listener back, on the promoted node? First a control: an event nobody notifies
    must not answer a long poll before the poll's own look (5 s while the listener is connected; a
    service whose listener never reconnected looks every 0.1 s and would answer at once). Then a write
    through the service must answer it before that look: only the notification can."""
    def notified():
        status, _, _ = http("POST", f"{service.base}/api/v1/cases/{case_id}/entries", token,
                            {"kind": "note", "occurred_at": "2026-11-27T08:00:00Z", "body": "etter failover"})
        return status == 201

    rounds = []
    for kind, write in (("unnotified", lambda: unnotified_write(formation, port, case_id)),
                        ("notified", notified)):
        for _ in range(ROUNDS):
            r = dict(feed_round(service, formation, port, integration, write), kind=kind)
            rounds.append(r)
            log(f"long poll, {kind} write done at {r['write_done_s']:.2f} s: answered after {r['took_s']} s, "
                f"saw it: {r['seen']}, conclusive: {r['conclusive']}")
            if r["conclusive"]:
                break
    return rounds


def feed_verdict(rounds, kind, before_look):
    """Whether the last round of `kind` was conclusive, saw its write, and answered before the poll's
    own look (before_look) or not before it."""
    r = [x for x in rounds if x["kind"] == kind][-1]
    return bool(r["conclusive"] and r["seen"] and r["took_s"] is not None
                and (r["took_s"] < POLL_FALLBACK) == before_look)


def longest_window(events):
    """events: (start, end, ok) sorted by end. The longest stretch from the start of a failure to the end
    of the next success (across all workers), i.e. how long writes kept failing."""
    longest, first_fail = 0.0, None
    for start, end, ok in events:
        if ok:
            if first_fail is not None:
                longest = max(longest, end - first_fail)
                first_fail = None
        elif first_fail is None:
            first_fail = start
    return longest, first_fail is not None


def create_service(service, tenant):
    """The service (the kind that opens cases) in `tenant`; a professional's token there."""
    admin = service.token("admin", "admin", tenant=tenant)
    status, _, body = http("POST", f"{service.base}/api/v1/services", admin,
                           {"code": SERVICE, "name": "Solstua barnehage", "kind": "barnehage"})
    if status != 201:
        raise SetupError(f"creating the service answered {status}: {body}")
    return service.token("ola", "professional", SERVICE, tenant=tenant)


def open_case(service, token, name):
    status, _, body = http("POST", f"{service.base}/api/v1/cases", token, {
        "service": SERVICE, "concern": "Bekymring under failover-test",
        "subject": {"kind": "child", "given_name": name, "family_name": "Testesen", "birth_date": "2019-05-01"}})
    if status != 201:
        raise SetupError(f"opening a case answered {status}: {body}")
    return body["id"]


def kill_under_load(formation, load, held, args):
    """Kills the primary with the held write in flight; waits for a write started after the kill to
    succeed (and `--after` seconds more). Returns (kill instant, first success or None, promotion or None)."""
    held.start()
    log(f"{len(load.successes_after(0))} writes acknowledged, one held in flight; kill -9 of the primary now")
    t_kill = formation.kill_node("node1")
    promoted = {}

    def watch_promotion():
        # When the monitor saw node2 take writes: the database's share of the outage.
        while not load.stop.is_set() and time.monotonic() - t_kill < args.give_up:
            try:
                if formation.states().get("node2", ("",))[0] in ("wait_primary", "primary"):
                    promoted["t"] = time.monotonic()
                    return
            except (SetupError, subprocess.TimeoutExpired):
                pass
            time.sleep(0.1)
    watcher = threading.Thread(target=watch_promotion, daemon=True)
    watcher.start()
    first_success = None
    while time.monotonic() - t_kill < args.give_up:
        ok = load.successes_after(t_kill)
        if ok:
            first_success = min(r.end for r in ok)
            break
        time.sleep(0.1)
    if first_success is not None:
        log(f"first write after the kill succeeded {first_success - t_kill:.2f} s after it")
        time.sleep(args.after)
    else:
        log(f"no write succeeded within {args.give_up} s of the kill")
    watcher.join(timeout=5)
    return t_kill, first_success, promoted.get("t")


def outcome(load, stored, t_kill, t_start):
    """What happened to the writes: lost, stored twice, hung, refused how; and which spanned the kill.
    `t_kill` is the last SIGKILL (lost writes count from it), `t_start` the first (a write answered after it
    spanned the kill)."""
    results = sorted(load.results, key=lambda r: r.end)
    ok = [r for r in results if r.status is not None and 200 <= r.status < 300]
    s503 = [r for r in results if r.status == 503]
    spanning = [r for r in results if r.start < t_start < r.end and r.status is not None]
    held = [r for r in results if r.worker == "held"]
    # The held write waited on purpose before the kill: the load workers alone say how long writes failed.
    window, still_failing = longest_window([(r.start, r.end, r in ok) for r in results if r.worker != "held"])
    return {
        "writes": len(results),
        "acknowledged": len(ok),
        "acknowledged_after_kill": sum(1 for r in ok if r.start >= t_kill),
        "lost": sum(1 for r in ok if stored[r.marker] == 0),
        "lost_markers": sorted(r.marker for r in ok if stored[r.marker] == 0)[:20],
        # Each marker is sent once: a marker stored more than once was written twice by the service.
        "stored_more_than_once": sum(1 for n in stored.values() if n > 1),
        "stored_more_than_once_markers": sorted(m for m, n in stored.items() if n > 1)[:20],
        "acknowledged_not_stored_once": sum(1 for r in ok if stored[r.marker] != 1),
        "spanning_kill": len(spanning),
        "spanning_kill_statuses": dict(collections.Counter(str(r.status) for r in spanning)),
        "held_write": [{"status": r.status, "sent_before_kill_s": round(t_start - r.start, 3),
                        "answered_after_kill_s": round(r.end - t_start, 3), "detail": r.detail} for r in held],
        "status_503": len(s503),
        "status_503_without_retry_after": sum(1 for r in s503 if not r.retry_after),
        "status_503_details": dict(collections.Counter(r.detail for r in s503)),
        "other_statuses": dict(collections.Counter(
            str(r.status) for r in results
            if r.status is not None and not (200 <= r.status < 300) and r.status != 503)),
        "hung_or_failed_requests": sum(1 for r in results if r.status is None),
        "hung_examples": [r.error for r in results if r.status is None][:5],
        "longest_503_window_s": round(window, 2),
        "still_failing_at_end": still_failing,
        "unacknowledged_but_stored": sum(1 for r in results if r not in ok and stored[r.marker] > 0),
    }


def passed(f):
    return (f["lost"] == 0 and f["stored_more_than_once"] == 0 and f["acknowledged_not_stored_once"] == 0
            and f["hung_or_failed_requests"] == 0 and f["status_503_without_retry_after"] == 0
            and not f["other_statuses"] and f["acknowledged_after_kill"] > 0 and f["spanning_kill"] > 0
            and f["service_kept_running"] and not f["still_failing_at_end"]
            and f["listener_connected_after_failover"] and f["long_poll_woken_after_failover"])


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("binary", help="path to the stafettlogg binary")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--before", type=float, default=4.0, help="seconds of load before the kill")
    p.add_argument("--after", type=float, default=3.0, help="seconds of load after the first success")
    p.add_argument("--give-up", type=float, default=60.0, help="seconds after the kill to stop waiting")
    p.add_argument("--keep", action="store_true", help="keep the directory (logs) after the run")
    p.add_argument("--service-log", help="file for the service's stderr (JSON lines); default: in the "
                                         "run's directory")
    return p.parse_args()


def run(args, root, binary, parts):
    """The run itself; returns the figures. `parts` receives what needs stopping at the end."""
    t_begin = time.monotonic()
    formation = parts["formation"] = Formation(root)
    sync_names = formation.build()
    log(f"formation up; synchronous_standby_names on the primary: {sync_names}")
    p1, p2 = formation.ports["node1"], formation.ports["node2"]
    database_url = (f"host=127.0.0.1,127.0.0.1 port={p1},{p2} dbname=stafettlogg user={formation.superuser} "
                    "target_session_attrs=read-write")
    service = parts["service"] = Service(binary, root, database_url, args.service_log)
    service.start()
    wait_ready(service)
    service_pid = service.proc.pid
    log(f"service ready on {service.base} (pid {service_pid})")

    ola = create_service(service, TENANT)
    cases = [open_case(service, ola, f"Barn{i}") for i in range(args.workers)]
    held_token = create_service(service, HELD_TENANT)
    held_case = open_case(service, held_token, "Holdt")
    run_id = secrets.token_hex(4)
    load = parts["load"] = Load(service, ola, cases, run_id)
    threads = [threading.Thread(target=load.worker, args=(i, c), daemon=True) for i, c in enumerate(cases)]
    threads.append(threading.Thread(target=load.poll_ready, daemon=True))
    for t in threads:
        t.start()
    time.sleep(args.before)
    if not load.successes_after(0):
        raise SetupError("no write succeeded before the kill")
    held = parts["held"] = HeldWrite(formation, load, held_token, held_case)
    t_kill, first_success, promoted = kill_under_load(formation, load, held, args)
    load.stop.set()
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT + 5)
    held.join()
    t_end = time.monotonic()
    rounds = feed_checks(service, formation, p2, cases[0], ola, service.token("arkiv", "integration", SERVICE))
    service_alive = service.proc.poll() is None and service.proc.pid == service_pid

    # Which markers are in the database, and how often: as superuser, on the promoted node.
    stored = collections.Counter(formation.sql(
        p2, f"SELECT body FROM log_entries WHERE body LIKE 'failover-{run_id}-%'", dbname="stafettlogg").splitlines())
    ready_window, _ = longest_window([(a, b, s == 200) for a, b, s in load.readiness])
    return {
        **outcome(load, stored, t_kill, formation.kill_started),
        "kill_to_first_success_s": round(first_success - t_kill, 2) if first_success else None,
        "kill_to_promoted_s": round(promoted - t_kill, 2) if promoted else None,
        "readiness_not_ready_window_s": round(ready_window, 2),
        "poll_fallback_s": POLL_FALLBACK,
        "feed_rounds": rounds,
        "listener_connected_after_failover": feed_verdict(rounds, "unnotified", before_look=False),
        "long_poll_woken_after_failover": feed_verdict(rounds, "notified", before_look=True),
        "listener_connects_logged": service.listener_connects(),
        "service_kept_running": service_alive,
        "synchronous_standby_names": sync_names,
        "states_after": {k: list(v) for k, v in formation.states().items()},
        "workers": args.workers,
        "total_s": round(t_end - t_begin, 1),
    }


def main():
    args = parse_args()
    if shutil.which("pg_autoctl") is None:
        print("pg_autoctl is not installed (Debian: apt-get install postgresql-15-auto-failover)",
              file=sys.stderr)
        return 2
    binary = os.path.abspath(args.binary)
    if args.service_log:
        args.service_log = os.path.abspath(args.service_log)

    # SIGTERM (a test harness timing out) ends as an exception, so the cleanup below runs.
    def terminate(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)

    root = tempfile.mkdtemp(prefix="stafettlogg-failover-", dir="/tmp")
    os.chmod(root, 0o755)
    parts = {}
    try:
        figures = run(args, root, binary, parts)
        print(json.dumps(figures), flush=True)
        good = passed(figures)
        if not good:
            log("--- tail of the service's log ---\n" + parts["service"].log_tail(4000))
        return 0 if good else 1
    except SetupError as e:
        log(f"setup failed: {e}")
        for name in ("monitor", "node1", "node2"):
            path = f"{root}/{name}.log"
            if os.path.exists(path):
                log(f"--- tail of {name}.log ---\n" + open(path, errors="replace").read()[-2000:])
        if "service" in parts:
            log("--- tail of the service's log ---\n" + parts["service"].log_tail(2000))
        return 2
    finally:
        if "load" in parts:
            parts["load"].stop.set()
        if "held" in parts:
            parts["held"].stop()
        if "service" in parts:
            parts["service"].stop()
        if "formation" in parts:
            parts["formation"].stop()
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
