"""Delivery benchmark: throughput, latency and memory of the real path, Redis broker + PostgreSQL.

    python bench/deliveries.py [--messages 10000] [--processes 2] [--threads 8]
                               [--steady-rate 100 --steady-seconds 20] [--steady-timeouts 1000]
                               [--database-url ...] [--redis-url ...]

Phases, each on a freshly dropped and migrated database and a flushed Redis db, all delivering ~1 KB
messages to one endpoint on a fast local receiver (bench/receiver.py, its own process); each checks
that every delivery succeeded with exactly the attempts it counts, one per POST the receiver saw:

1. throughput: a `dramatiq tasks.worker` runs while this process sends --messages messages, each its
   own send_message + commit: deliveries/s from first enqueue to last success, p50/p99 latency, time
   to enqueue, peak worker RSS (VmHWM).
2. drain: the messages written first, 500 per commit (send_messages, as the batch API or a busy outbox
   writes them), then a worker started: deliveries/s from first attempt to last success, the worker's
   own capacity, with the worker processes' CPU and our PostgreSQL backends' CPU per delivery. With
   --analyze, PostgreSQL's statistics have seen the backlog before the worker starts (ANALYZE), as in a
   database that lives on; without, they have not, as in each fresh phase.
3. e2e_batch: the Procfile's web process (gunicorn) and a worker run; one producer posts the messages
   500 a call to POST /api/v1/messages/batch: deliveries/s from first message accepted to last success.
4. e2e_single: the same with --clients producers posting one message per call to POST /api/v1/messages.
5. ceiling: the reference, a bare loop with no queue in --ceiling-processes x --ceiling-threads
   (4 x 4): a signed POST of the same body, an INSERT of an attempt row, an UPDATE of a delivery row
   (copies of our tables, with their indexes), COMMIT. Our rates are printed as ratios of it.
6. steady: a new worker serves --warmup messages and then idles for --idle-seconds; messages then
   arrive at --steady-rate per second for --steady-seconds: p50/p99 enqueue-to-success latency.
   Then --probes lone messages --probe-interval seconds apart show what an idle consumer adds.
   Repeated for each dramatiq_worker_timeout in --steady-timeouts (how long an idle consumer waits
   on its queue's wake-up list between checks; see tasks/redis_wakeup.py).

Each phase also reports the share of the CPUs that other processes took meanwhile (OtherLoad): on
2 cores a concurrent test suite changes every figure. Phases 1-5 also print where the machine's CPU went,
in ms per delivery (bench/budget.py): each part of the path (the producers, the web process, the workers,
our PostgreSQL backends, the receiver), the rest of the machine (Redis, the kernel's network), the total,
and how busy the CPUs were. With the CPUs busy in both, a phase's ratio to the reference can reach about
the reference's total over the phase's (`ceiling_cpu` over `<phase>_cpu` in the last line), no more.
The last line printed is one line of figures, the one before it which of the issue's targets were met.
The database named in --database-url is dropped and recreated, so its name must contain "bench"; the
Redis db is flushed, so it must not be 0 or 15.
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import receiver  # noqa: E402  bench/receiver.py, found through the path set just above
from budget import Budget, process_seconds  # noqa: E402  bench/budget.py
from common import Client, Server, ensure_database, order  # noqa: E402  bench/common.py

#: Targets from the issue that asked for this benchmark.
#: Deliveries/s as a share of the bare reference loop: a preloaded queue, the batch API and one message a call.
TARGET_DRAIN_RATIO, TARGET_BATCH_RATIO, TARGET_SINGLE_RATIO = 0.9, 0.6, 0.3
TARGET_WORKER_CPU_MS, TARGET_POSTGRES_CPU_MS, TARGET_RSS_MB, TARGET_STEADY_P99_MS = 1.2, 0.6, 150, 10
#: The worker setting a steady run changes; Dramatiq reads it from the environment.
WORKER_TIMEOUT_ENV = "dramatiq_worker_timeout"
EVENT_TYPE = "order.created"
PAYLOAD_BYTES = 1024


# --- settings and state -------------------------------------------------------------------------


def parse_args(argv=None):
    """Read the command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=10_000, help="messages in the throughput run")
    p.add_argument("--processes", type=int, default=2, help="worker processes (dramatiq --processes)")
    p.add_argument("--threads", type=int, default=8, help="threads per worker process (dramatiq --threads)")
    p.add_argument("--ceiling-processes", type=int, default=4, help="processes of the bare reference loop")
    p.add_argument("--ceiling-threads", type=int, default=4, help="threads per process of the bare reference loop")
    p.add_argument("--steady-rate", type=float, default=100, help="messages per second in the steady run")
    p.add_argument("--steady-seconds", type=float, default=20, help="length of the steady run")
    p.add_argument("--steady-timeouts", default="1000",
                   help=f"comma-separated {WORKER_TIMEOUT_ENV} values (ms) to run the steady phase with")
    p.add_argument("--warmup", type=int, default=200, help="messages sent to a new worker before it idles")
    p.add_argument("--idle-seconds", type=float, default=5, help="idle time before a steady run starts")
    p.add_argument("--probes", type=int, default=10, help="lone messages sent to an idle worker per steady run")
    p.add_argument("--probe-interval", type=float, default=1.5, help="seconds between lone messages")
    p.add_argument("--clients", type=int, default=8, help="producers posting one message per call (e2e_single)")
    p.add_argument("--analyze", action="store_true", help="drain: PostgreSQL analyzes the tables once the backlog is "
                   "written, as autovacuum soon does in a database that lives on (else its statistics have not "
                   "seen the backlog)")
    p.add_argument("--skip", default="", help="comma-separated phases to skip: "
                   "throughput,drain,e2e_batch,e2e_single,ceiling,steady")
    p.add_argument("--timeout", type=float, default=600, help="seconds to wait for a phase's deliveries")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                            "postgresql://postgres@127.0.0.1/hookyard_bench"))
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"))
    args = p.parse_args(argv)
    args.steady_timeouts = [int(t) for t in args.steady_timeouts.split(",") if t.strip()]
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    check_targets_are_disposable(args)
    return args


def worker_bench_parser(doc):
    """The arguments every benchmark of the Procfile's worker on PostgreSQL + Redis takes (its description: doc's
    first paragraph); check_targets_are_disposable() vets the first two."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1/hookyard_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (dramatiq --processes)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process (dramatiq --threads)")
    return parser


def check_targets_are_disposable(args):
    """Refuse a database or Redis db that may hold anything but benchmark data."""
    dbname = urlsplit(args.database_url).path.lstrip("/")
    if "bench" not in dbname:
        sys.exit(f"refusing to drop database {dbname!r}: its name must contain 'bench'")
    redis_db = int(urlsplit(args.redis_url).path.lstrip("/") or 0)
    if redis_db in (0, 15):
        sys.exit(f"refusing to flush Redis db {redis_db}: use another db number, e.g. redis://127.0.0.1:6379/3")


def bench_environment(args):
    """Return the environment for the app, the flask CLI and the workers (app/config.py reads it)."""
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=args.database_url,
        BROKER_URL=args.redis_url,
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",  # the receiver is on loopback
        WEBHOOK_SWEEP_INTERVAL_SECONDS="0",  # no sweeper thread: only the deliveries under test run
    )
    env.setdefault("SECRET_KEY", "bench-secret-key")
    from app.config import TEST_ENCRYPTION_KEY  # reads nothing at import

    env.setdefault("SECRETS_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
    env.pop(WORKER_TIMEOUT_ENV, None)
    return env


def reset_state(args, env, app):
    """Drop and re-migrate the database, flush the Redis db and drop the app's pooled connections."""
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "app", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


# --- processes ------------------------------------------------------------------------------------


class Receiver:
    """bench/receiver.py in its own process."""

    def __init__(self):
        self.proc, self.url = receiver.start(port=0)

    def posts(self):
        """Return how many POSTs it has answered so far."""
        with urllib.request.urlopen(self.url + "stats", timeout=5) as response:
            return json.load(response)["posts"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class Worker:
    """`dramatiq tasks.worker` as a process group of its own, logging to a temporary file."""

    def __init__(self, processes, threads, env):
        self.processes = processes
        self.log = tempfile.NamedTemporaryFile(prefix="hookyard-bench-worker-", suffix=".log", delete=False)
        command = [str(Path(sys.executable).parent / "dramatiq"), "tasks.worker", "--processes", str(processes),
                   "--threads", str(threads), "--worker-shutdown-timeout", "25000"]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.peak_rss_kb = 0
        self.keep_log = False

    def wait_ready(self, timeout=60):
        """Block until every worker process has logged that it is ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log_text().count("is ready for action") >= self.processes:
                return
            self.check_alive()
            time.sleep(0.1)
        self.fail(f"worker not ready after {timeout:g} s")

    def log_text(self):
        return Path(self.log.name).read_text(errors="replace")

    def check_alive(self):
        if self.proc.poll() is not None:
            self.fail(f"worker exited with {self.proc.returncode}")

    def fail(self, reason):
        """Raise with reason and the end of the worker's log, and keep the log file."""
        self.keep_log = True
        errors = [line for line in self.log_text().splitlines() if "ERROR" in line or "Error" in line]
        raise RuntimeError(f"{reason}\nlast errors in the worker log {self.log.name}:\n" + "\n".join(errors[-5:]))

    def child_pids(self):
        """Return the pids of the worker processes (the children of the dramatiq main process)."""
        return [pid for pid in _children(self.proc.pid) if b"tasks.worker" in _read(f"/proc/{pid}/cmdline")]

    def sample_rss(self):
        """Fold the worker processes' current peak resident set size (VmHWM) into peak_rss_kb."""
        for pid in self.child_pids():
            match = re.search(rb"VmHWM:\s+(\d+) kB", _read(f"/proc/{pid}/status"))
            if match:
                self.peak_rss_kb = max(self.peak_rss_kb, int(match.group(1)))

    def cpu_seconds(self):
        """Return the CPU time (user + system) the worker processes have used so far."""
        ticks = 0
        for pid in self.child_pids():
            stat = _read(f"/proc/{pid}/stat")
            fields = stat[stat.rfind(b")") + 2:].split()
            ticks += int(fields[11]) + int(fields[12]) if len(fields) > 12 else 0
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self):
        """SIGTERM and wait for a clean shutdown; SIGKILL the process group if it takes too long."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()
        if not self.keep_log:
            Path(self.log.name).unlink(missing_ok=True)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _children(pid):
    """Return the pids whose parent is pid."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read(f"/proc/{entry}/stat")
            fields = stat[stat.rfind(b")") + 2:].split()
            if len(fields) > 1 and int(fields[1]) == pid:
                found.append(int(entry))
    return found


class OtherLoad(threading.Thread):
    """Once a second, add up the CPU used by processes that are not part of this benchmark.

    Ours are this process's descendants and the PostgreSQL backends of our database; PostgreSQL's
    and Redis's own background processes count as neither. On 2 cores anything else, a test suite or
    a build, changes every figure, so each phase reports the share of the machine others used.
    """

    def __init__(self, dbname, interval=1.0):
        super().__init__(name="other-load", daemon=True)
        self.dbname, self.interval = dbname, interval
        self.other_seconds = 0.0
        #: CPU used by the PostgreSQL backends of our database (the app's, the workers' and the producer's).
        self.postgres_seconds = 0.0
        self._last = {}
        self._postmasters, self._reaped = set(), {}
        self._sampling = threading.Lock()
        self._halt = threading.Event()

    def run(self):
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self):
        self._halt.set()

    def sample(self):
        with self._sampling:
            self._sample()

    def _sample(self):
        procs, reaped = {}, {}
        for entry in os.listdir("/proc"):
            stat = _read(f"/proc/{entry}/stat") if entry.isdigit() else b""
            fields = stat[stat.rfind(b")") + 2:].split()
            if len(fields) > 14:
                procs[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
                reaped[int(entry)] = int(fields[13]) + int(fields[14])  # its children's, once they have exited
        ticks = backend_ticks = 0
        postmasters = set()
        for pid, (parent, used) in procs.items():
            if self._is_our_backend(pid):
                postmasters.add(parent)
            if pid in self._last:
                delta = max(used - self._last[pid], 0)
                if not self._is_ours(pid, procs):
                    ticks += delta
                elif self._is_our_backend(pid):
                    backend_ticks += delta
            elif self._is_our_backend(pid):
                backend_ticks += used  # a backend started since the last sample
        # A backend that started and exited between two samples is never seen: PostgreSQL's server process counts
        # what its exited children used. (It counts those of every database; on an otherwise idle machine, ours.)
        for pid in postmasters | self._postmasters:
            if pid in reaped and pid in self._reaped:
                backend_ticks += max(reaped[pid] - self._reaped[pid], 0)
        self._postmasters |= postmasters
        self._reaped = reaped
        self._last = {pid: used for pid, (_, used) in procs.items()}
        self.other_seconds += ticks / os.sysconf("SC_CLK_TCK")
        self.postgres_seconds += backend_ticks / os.sysconf("SC_CLK_TCK")

    def _is_our_backend(self, pid):
        words = _read(f"/proc/{pid}/cmdline").split(b"\0")[0].split()
        return words[:1] == [b"postgres:"] and len(words) > 3 and words[3].decode(errors="replace") == self.dbname

    def _is_ours(self, pid, procs):
        words = _read(f"/proc/{pid}/cmdline").split(b"\0")[0].split()
        if words[:1] == [b"postgres:"]:  # a backend is "postgres: 15/main: USER DATABASE HOST(PORT) STATE"
            backend = len(words) > 4 and (b"(" in words[4] or words[4] == b"[local]")
            return not backend or words[3].decode(errors="replace") == self.dbname
        if words[:1] and words[0].startswith(b"redis-server"):
            return True
        while pid > 1:
            if pid == os.getpid():
                return True
            pid = procs.get(pid, (0, 0))[0]
        return False

    def share(self, since):
        """Return the share of all CPUs others used since the (monotonic time, other_seconds) mark given."""
        started, seconds = since
        return (self.other_seconds - seconds) / ((time.monotonic() - started) * os.cpu_count())

    def mark(self):
        return time.monotonic(), self.other_seconds


# --- producing and measuring ----------------------------------------------------------------------


def make_payload(i):
    """Return an order-like payload whose JSON encoding is PAYLOAD_BYTES long."""
    payload = {
        "id": f"ord_{i:010d}", "customer": {"id": f"cus_{i % 977:06d}", "email": f"buyer{i % 977}@example.com"},
        "currency": "EUR", "total": 1999 + i % 500, "items": [{"sku": f"SKU-{i % 50:04d}", "qty": 1 + i % 3}],
        "note": "",
    }
    size = len(json.dumps(payload, separators=(",", ":")).encode())
    payload["note"] = "x" * max(PAYLOAD_BYTES - size, 0)
    return payload


def create_receiver_endpoint(app, url):
    """Create the one endpoint every message goes to."""
    from app.delivery.endpoints.service import create_endpoint

    with app.app_context():
        create_endpoint(url + "hook", name="bench receiver")


def enqueue(app, count, rate=None, prefix="bench", interval=None):
    """Send count messages, each in its own transaction; paced at rate/s or one per interval s if given.

    Returns (seconds taken, the highest lag in seconds behind the pacing schedule, CPU seconds used).
    """
    from app.delivery.messages import send_message
    from app.extensions import db

    step = interval if interval else (1 / rate if rate else 0)
    lag = 0.0
    with app.app_context():
        started, cpu = time.monotonic(), time.thread_time()
        for i in range(count):
            due = started + i * step
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            lag = max(lag, -wait)
            send_message(EVENT_TYPE, make_payload(i), reference=f"{prefix}-{i}")
            db.session.commit()
        return time.monotonic() - started, lag, time.thread_time() - cpu


def enqueue_batches(app, count, prefix, size=500):
    """Send count messages size at a time with send_messages (one commit each, as a batch API call or a busy
    outbox does); return the seconds taken."""
    from app.delivery.messages import send_messages
    from app.extensions import db

    with app.app_context():
        started = time.monotonic()
        for first in range(0, count, size):
            send_messages([{"event_type": EVENT_TYPE, "payload": make_payload(i), "reference": f"{prefix}-{i}"}
                           for i in range(first, min(first + size, count))])
            db.session.commit()
        return time.monotonic() - started


def wait_until_succeeded(dsn, count, worker, timeout, stall=60):
    """Poll until count deliveries have succeeded, sampling the workers' RSS meanwhile.

    Gives up after timeout seconds, or after stall seconds without one more success.
    """
    deadline, done, progress_at = time.monotonic() + timeout, -1, time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            worker.sample_rss()
            now_done = conn.execute("SELECT count(*) FROM deliveries WHERE status = 'succeeded'").fetchone()[0]
            if now_done >= count:
                return
            if now_done > done:
                done, progress_at = now_done, time.monotonic()
            worker.check_alive()
            now = time.monotonic()
            if now > deadline or now - progress_at > stall:
                states = dict(conn.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall())
                worker.fail(f"only {done} of {count} deliveries succeeded after {timeout:g} s "
                            f"(or {stall} s without progress): {states}")
            time.sleep(0.2)


@dataclass
class Figures:
    """Timings of the successful deliveries of one run, from the database."""

    count: int
    first_enqueue: float
    last_success: float
    latencies_ms: list

    @property
    def rate(self):
        return self.count / (self.last_success - self.first_enqueue)

    def percentile(self, p):
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]


def delivery_figures(dsn, prefix):
    """Read each successful delivery of messages whose reference starts with prefix.

    Latency is from the message's created_at (set just before its INSERT) to the end of the successful
    attempt (started_at + duration_ms, which record_attempt takes just before its commit).
    """
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM m.created_at)::float8,"
            " extract(epoch FROM a.started_at)::float8 + a.duration_ms / 1000.0"
            " FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id"
            " JOIN messages m ON m.id = d.message_id"
            " WHERE d.status = 'succeeded' AND a.response_status BETWEEN 200 AND 299 AND m.reference LIKE %s",
            (prefix + "-%",),
        ).fetchall()
    if not rows:
        raise RuntimeError(f"no successful deliveries for {prefix!r}")
    return Figures(len(rows), min(r[0] for r in rows), max(r[1] for r in rows),
                   [(end - created) * 1000 for created, end in rows])


def check_attempts(dsn, expected, receiver_posts):
    """Check every delivery succeeded with exactly the attempts counted; return (ok, text)."""
    with psycopg.connect(dsn) as conn:
        deliveries, succeeded, attempts, mismatched, extra = conn.execute(
            "SELECT (SELECT count(*) FROM deliveries),"
            " (SELECT count(*) FROM deliveries WHERE status = 'succeeded'),"
            " (SELECT count(*) FROM delivery_attempts),"
            " (SELECT count(*) FROM deliveries d WHERE d.attempt_count <>"
            "   (SELECT count(*) FROM delivery_attempts a WHERE a.delivery_id = d.id)),"
            " (SELECT count(*) FROM deliveries WHERE attempt_count <> 1)"
        ).fetchone()
    ok = (deliveries == succeeded == expected and attempts == receiver_posts == expected and not mismatched)
    text = (f"deliveries={deliveries} succeeded={succeeded} attempt_rows={attempts} receiver_posts={receiver_posts}"
            f" count_mismatches={mismatched} retried={extra} -> {'every attempt recorded' if ok else 'MISMATCH'}")
    return ok, text


# --- the ceiling: POST + INSERT with no queue -----------------------------------------------------

CEILING_TABLE = "bench_ceiling_attempts"
CEILING_DELIVERIES = "bench_ceiling_deliveries"
CEILING_UPDATE = (f"UPDATE {CEILING_DELIVERIES} SET status = 'succeeded', attempt_count = attempt_count + 1,"
                  " last_attempt_at = %s, last_response_status = %s WHERE id = %s")
CEILING_INSERT = (
    f"INSERT INTO {CEILING_TABLE} (delivery_id, number, trigger, triggered_by, started_at, duration_ms, request_url,"
    " request_headers, response_status, response_body, error_class, error, will_retry, next_attempt_at)"
    " VALUES (%s, 1, 'scheduled', NULL, %s, %s, %s, %s, %s, %s, NULL, NULL, false, NULL)"
)


def _ceiling_thread(url, dsn, count, first, ready, go, spans):
    """Connect, wait for the start, then POST and INSERT + COMMIT count times; append (start, end)."""
    import base64
    import hashlib
    import hmac
    from datetime import UTC, datetime

    import requests
    from psycopg.types.json import Json

    session, conn, key = requests.Session(), psycopg.connect(dsn), os.urandom(32)
    body = json.dumps(make_payload(0), separators=(",", ":")).encode()
    ready.wait()
    go.wait()
    started = time.time()
    for n in range(first, first + count):
        msg_id, stamp = f"msg_ceiling_{n}", str(int(time.time()))
        signature = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
        headers = {"User-Agent": "Hookyard-Webhooks/1.0", "Content-Type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": stamp, "webhook-signature": "v1," + signature.decode()}
        began, t0 = datetime.now(UTC), time.monotonic()
        response = session.post(url, data=body, headers=headers, timeout=10)
        duration_ms = int((time.monotonic() - t0) * 1000)
        conn.execute(CEILING_INSERT, (f"dlv_ceiling_{n}", began, duration_ms, url, Json(headers),
                                      response.status_code, response.text))
        conn.execute(CEILING_UPDATE, (began, response.status_code, f"dlv_ceiling_{n}"))
        conn.commit()
    spans.append((started, time.time()))
    conn.close()


def _ceiling_process(url, dsn, count, first, threads, go, results):
    """One process of the ceiling: threads x _ceiling_thread; puts its (start, end) span and the CPU seconds it used
    from go on results."""
    ready, spans = threading.Barrier(threads + 1), []
    shares = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    starts = [first + sum(shares[:i]) for i in range(threads)]
    pool = [threading.Thread(target=_ceiling_thread, args=(url, dsn, shares[i], starts[i], ready, go, spans))
            for i in range(threads)]
    for thread in pool:
        thread.start()
    ready.wait()
    cpu = time.process_time()  # the threads wait for go: what follows is the timed part
    results.put("ready")
    for thread in pool:
        thread.join()
    results.put((min(s for s, _ in spans), max(e for _, e in spans), time.process_time() - cpu))


def ceiling_tables(dsn, count):
    """(Re)create the tables the bare loop writes: copies of delivery_attempts and of deliveries, with their
    indexes, the latter with one pending row per POST of count (dlv_ceiling_0 ...)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {CEILING_TABLE}, {CEILING_DELIVERIES}")
        conn.execute(f"CREATE TABLE {CEILING_TABLE} (LIKE delivery_attempts INCLUDING ALL)")
        conn.execute(f"CREATE TABLE {CEILING_DELIVERIES} (LIKE deliveries INCLUDING ALL)")
        conn.execute(f"INSERT INTO {CEILING_DELIVERIES} (id, message_id, endpoint_id, event_type, status,"
                     " attempt_count, scheduled_attempt_count, next_attempt_at, created_at)"
                     " SELECT 'dlv_ceiling_' || n, 'msg_ceiling_' || n, 'ep_ceiling', 'order.created', 'pending', 0, 0,"
                     f" now(), now() FROM generate_series(0, {count - 1}) AS n")


def run_ceiling(url, dsn, count, processes, threads, budget=None):
    """Run the bare loop in processes x threads and return (rate per second, rows inserted). budget, if given, spans
    the timed part, with the loop's own processes as its part "the reference's clients"."""
    import multiprocessing

    ceiling_tables(dsn, count)
    ctx = multiprocessing.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    procs = [ctx.Process(target=_ceiling_process, args=(url, dsn, shares[i], sum(shares[:i]), threads, go, results),
                         daemon=True)  # so an interrupted run does not wait for them
             for i in range(processes)]
    for proc in procs:
        proc.start()
    for _ in procs:
        results.get(timeout=60)
    with budget or nullcontext():
        go.set()
        spans = [results.get(timeout=600) for _ in procs]
    if budget is not None:
        budget.add("the reference's clients", sum(cpu for _, _, cpu in spans))
    for proc in procs:
        proc.join(30)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(f"SELECT count(*) FROM {CEILING_TABLE}").fetchone()[0]
    return count / (max(e for _, e, _ in spans) - min(s for s, _, _ in spans)), rows


# --- phases ---------------------------------------------------------------------------------------


def parts(others, rcv, **named):
    """The parts a phase's Budget counts: named ones (name -> CPU seconds so far), our PostgreSQL backends and the
    receiver."""
    def postgres_seconds():
        others.sample()
        return others.postgres_seconds

    return {**named, "PostgreSQL": postgres_seconds, "receiver": lambda: process_seconds(rcv.proc.pid)}


def throughput_phase(args, env, app, rcv, stack, others):
    """Deliver args.messages messages as fast as the worker can; return a dict of figures."""
    reset_state(args, env, app)
    create_receiver_endpoint(app, rcv.url)
    worker = Worker(args.processes, args.threads, env)
    stack.callback(worker.stop)
    worker.wait_ready()
    posts_before = rcv.posts()
    with Budget(parts(others, rcv, producer=time.process_time, worker=worker.cpu_seconds)) as budget:
        enqueue_seconds, _, producer_cpu = enqueue(app, args.messages, prefix="bench")
        print(f"  enqueued {args.messages} messages in {enqueue_seconds:.1f} s "
              f"({args.messages / enqueue_seconds:.0f}/s), producer CPU {producer_cpu / args.messages * 1000:.2f} ms "
              "per message", flush=True)
        wait_until_succeeded(args.database_url, args.messages, worker, args.timeout)
    worker.sample_rss()
    worker_cpu = budget.used["worker"]
    worker.stop()
    ok, check = check_attempts(args.database_url, args.messages, rcv.posts() - posts_before)
    figures = delivery_figures(args.database_url, "bench")
    print(f"  {check}")
    print(f"  rate={figures.rate:.0f}/s over {figures.last_success - figures.first_enqueue:.1f} s "
          f"(first enqueue to last success); latency p50={figures.percentile(50):.0f} ms "
          f"p99={figures.percentile(99):.0f} ms; peak worker RSS {worker.peak_rss_kb / 1024:.0f} MB "
          f"(max VmHWM of {args.processes} processes); worker CPU {worker_cpu / args.messages * 1000:.2f} ms "
          "per delivery", flush=True)
    print(f"  {budget.line(args.messages)}", flush=True)
    return {"ok": ok, "rate": figures.rate, "p50": figures.percentile(50), "p99": figures.percentile(99),
            "enqueue": enqueue_seconds, "rss_mb": worker.peak_rss_kb / 1024,
            "cpu_ms": budget.per_delivery(args.messages)["total"]}


def drain_phase(args, env, app, rcv, stack, others):
    """Enqueue args.messages with no worker running, then start one and time how fast it empties the queue.

    This isolates the worker's own capacity from the producer's; returns a dict of figures.
    """
    reset_state(args, env, app)
    create_receiver_endpoint(app, rcv.url)
    enqueue_batches(app, args.messages, prefix="drain")
    if args.analyze:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute("ANALYZE")
    posts_before = rcv.posts()
    worker = Worker(args.processes, args.threads, env)
    stack.callback(worker.stop)
    worker.wait_ready()
    with Budget(parts(others, rcv, worker=worker.cpu_seconds)) as budget:
        wait_until_succeeded(args.database_url, args.messages, worker, args.timeout)
    worker.sample_rss()
    worker_cpu, pg_cpu = budget.used["worker"], budget.used["PostgreSQL"]
    worker.stop()
    ok, check = check_attempts(args.database_url, args.messages, rcv.posts() - posts_before)
    with psycopg.connect(args.database_url) as conn:
        first, last = conn.execute(
            "SELECT extract(epoch FROM min(started_at))::float8,"
            " extract(epoch FROM max(started_at + duration_ms * interval '1 millisecond'))::float8"
            " FROM delivery_attempts WHERE response_status BETWEEN 200 AND 299").fetchone()
    rate = args.messages / (last - first)
    print(f"  {check}")
    worker_ms, pg_ms = worker_cpu / args.messages * 1000, pg_cpu / args.messages * 1000
    print(f"  drain={rate:.0f}/s over {last - first:.1f} s (first attempt to last success, queue preloaded by "
          f"batches of 500); worker CPU {worker_ms:.2f} ms and PostgreSQL CPU {pg_ms:.2f} ms per delivery; "
          f"peak worker RSS {worker.peak_rss_kb / 1024:.0f} MB", flush=True)
    print(f"  {budget.line(args.messages)}", flush=True)
    return {"ok": ok, "rate": rate, "rss_mb": worker.peak_rss_kb / 1024, "worker_ms": worker_ms, "pg_ms": pg_ms,
            "cpu_ms": budget.per_delivery(args.messages)["total"]}


def e2e_phase(args, env, app, rcv, stack, others, batched):
    """Producers post over HTTP to the Procfile's web process while the worker delivers; return figures.

    batched: one producer posts batches of 500 (POST /api/v1/messages/batch); otherwise --clients producers
    each post one message per call (POST /api/v1/messages).
    """
    from app.auth.api_keys import create_api_key

    reset_state(args, env, app)
    create_receiver_endpoint(app, rcv.url)
    with app.app_context():
        _, key = create_api_key("bench")
    server = Server(env)
    stack.callback(server.stop)
    worker = Worker(args.processes, args.threads, env)
    stack.callback(worker.stop)
    worker.wait_ready()
    posts_before, prefix = rcv.posts(), "e2eb" if batched else "e2es"
    messages = [{**order(i), "reference": f"{prefix}-{i}"} for i in range(args.messages)]
    started = time.monotonic()
    with Budget(parts(others, rcv, producers=time.process_time, web=server.cpu_seconds,
                      worker=worker.cpu_seconds)) as budget:
        if batched:
            client = Client(server.port, key)
            for first in range(0, len(messages), 500):
                client.post("/api/v1/messages/batch", {"messages": messages[first:first + 500]})
        else:
            post_concurrently(server.port, key, messages, args.clients)
        produced = time.monotonic() - started
        wait_until_succeeded(args.database_url, args.messages, worker, args.timeout)
    worker.stop()
    server.stop()
    ok, check = check_attempts(args.database_url, args.messages, rcv.posts() - posts_before)
    figures = delivery_figures(args.database_url, prefix)
    print(f"  {check}")
    print(f"  rate={figures.rate:.0f}/s (first message accepted to last success); producers took {produced:.1f} s; "
          f"latency p50={figures.percentile(50):.0f} ms p99={figures.percentile(99):.0f} ms", flush=True)
    print(f"  {budget.line(args.messages)}", flush=True)
    return {"ok": ok, "rate": figures.rate, "p50": figures.percentile(50), "p99": figures.percentile(99),
            "cpu_ms": budget.per_delivery(args.messages)["total"]}


def post_concurrently(port, key, messages, clients):
    """Post each message with its own call, from clients threads sharing the list."""
    queue, errors = list(reversed(messages)), []

    def run():
        client = Client(port, key)
        try:
            while queue:
                client.post("/api/v1/messages", queue.pop())
        except IndexError:
            pass
        except Exception as exc:  # noqa: BLE001  re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def ceiling_phase(args, rcv, others):
    """Run the bare POST + INSERT loop against the same receiver and database; return its rate."""
    import resource

    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    budget = Budget(parts(others, rcv))
    rate, rows = run_ceiling(rcv.url + "hook", args.database_url, args.messages, args.ceiling_processes,
                             args.ceiling_threads, budget)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_ms = (used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime) / args.messages * 1000
    print(f"  ceiling={rate:.0f}/s ({args.messages} POST + INSERT + UPDATE + COMMIT in {args.ceiling_processes} "
          f"processes x {args.ceiling_threads} threads, no queue; {rows} rows inserted); client CPU {cpu_ms:.2f} ms "
          "per round (process start included)", flush=True)
    print(f"  {budget.line(args.messages)} (the timed part)", flush=True)
    return rate, budget.per_delivery(args.messages)["total"]


def steady_phase(args, env, app, rcv, worker_timeout_ms, stack, others):
    """Offer a steady rate to a warmed-up, then idle, worker; then lone messages.

    The warm-up burst opens every thread's database and HTTP connections first, so what follows
    measures an idle worker, not a cold one. Returns (steady Figures, probe Figures or None).
    """
    reset_state(args, env, app)
    create_receiver_endpoint(app, rcv.url)
    worker = Worker(args.processes, args.threads, {**env, WORKER_TIMEOUT_ENV: str(worker_timeout_ms)})
    stack.callback(worker.stop)
    worker.wait_ready()
    enqueue(app, args.warmup, prefix="warmup")
    wait_until_succeeded(args.database_url, args.warmup, worker, args.timeout)
    cpu_before = worker.cpu_seconds()
    time.sleep(args.idle_seconds)  # let every consumer back off to its longest poll interval
    idle_cpu = (worker.cpu_seconds() - cpu_before) / args.idle_seconds * 100
    count = int(args.steady_rate * args.steady_seconds)
    others.sample()
    cpu_before, pg_before = worker.cpu_seconds(), others.postgres_seconds
    seconds, lag, _ = enqueue(app, count, rate=args.steady_rate, prefix="steady")
    wait_until_succeeded(args.database_url, args.warmup + count, worker, args.timeout)
    others.sample()
    steady_cpu_ms = (worker.cpu_seconds() - cpu_before) / count * 1000
    steady_pg_ms = (others.postgres_seconds - pg_before) / count * 1000
    steady = delivery_figures(args.database_url, "steady")
    print(f"  {WORKER_TIMEOUT_ENV}={worker_timeout_ms}: {count} messages at {count / seconds:.0f}/s "
          f"(max lag behind schedule {lag * 1000:.0f} ms): p50={steady.percentile(50):.0f} ms "
          f"p99={steady.percentile(99):.0f} ms max={max(steady.latencies_ms):.0f} ms; "
          f"worker CPU {steady_cpu_ms:.2f} ms and PostgreSQL CPU {steady_pg_ms:.2f} ms (the producer's writes "
          "included) per delivery; "
          f"idle worker CPU before it {idle_cpu:.1f}% of a core", flush=True)
    probes = None
    if args.probes:
        time.sleep(args.idle_seconds)
        enqueue(app, args.probes, prefix="probe", interval=args.probe_interval)
        wait_until_succeeded(args.database_url, args.warmup + count + args.probes, worker, args.timeout)
        probes = delivery_figures(args.database_url, "probe")
        print(f"  {WORKER_TIMEOUT_ENV}={worker_timeout_ms}: {args.probes} lone messages "
              f"{args.probe_interval:g} s apart: median={statistics.median(probes.latencies_ms):.0f} ms "
              f"max={max(probes.latencies_ms):.0f} ms "
              f"[{' '.join(f'{v:.0f}' for v in probes.latencies_ms)}]", flush=True)
    worker.stop()
    return steady, probes


@dataclass
class Results:
    """What the phases measured; None or empty for a phase that was skipped."""

    throughput: dict | None = None
    drain: dict | None = None
    e2e_batch: dict | None = None
    e2e_single: dict | None = None
    ceiling: float | None = None
    ceiling_cpu_ms: float | None = None  # the machine's CPU per round of the reference
    steady: dict = field(default_factory=dict)  # dramatiq_worker_timeout -> (steady Figures, probe Figures)
    other_cpu: float = 0.0  # the highest share of the CPUs other processes used during a phase

    @property
    def ok(self):
        return all(r["ok"] for r in (self.throughput, self.drain, self.e2e_batch, self.e2e_single) if r)

    @property
    def rss_mb(self):
        return max((r["rss_mb"] for r in (self.throughput, self.drain) if r), default=0)


def _ratio(figures, res):
    return figures["rate"] / res.ceiling if figures and res.ceiling else None


def summary_line(args, res):
    """Return the one line of figures."""
    parts = [f"deliveries={args.messages}"]
    if res.ceiling:
        parts += [f"ceiling={res.ceiling:.0f}/s", f"ceiling_cpu={res.ceiling_cpu_ms:.2f}ms"]
    for name in ("throughput", "drain", "e2e_batch", "e2e_single"):
        figures = getattr(res, name)
        if figures:
            parts.append(f"{name}={figures['rate']:.0f}/s")
            if res.ceiling:
                parts.append(f"{name}_ratio={_ratio(figures, res):.2f}")
            parts.append(f"{name}_cpu={figures['cpu_ms']:.2f}ms")
    if res.drain:
        parts += [f"worker_cpu={res.drain['worker_ms']:.2f}ms", f"postgres_cpu={res.drain['pg_ms']:.2f}ms"]
    if res.throughput or res.drain:
        parts.append(f"rss_peak={res.rss_mb:.0f}MB")
    if any((res.throughput, res.drain, res.e2e_batch, res.e2e_single)):
        parts.append(f"attempts_ok={'yes' if res.ok else 'NO'}")
    for timeout_ms, (figures, _) in res.steady.items():
        parts.append(f"steady{args.steady_rate:g}(timeout={timeout_ms}ms): p50={figures.percentile(50):.0f}ms "
                     f"p99={figures.percentile(99):.0f}ms")
    parts.append(f"other_cpu_max={res.other_cpu:.0%}")
    return " ".join(parts)


def targets_line(res):
    """Return which of the issue's targets this run met."""
    checks = []

    def check(label, met):
        checks.append(f"{label}: {'met' if met else 'MISSED'}")

    for name, target in (("drain", TARGET_DRAIN_RATIO), ("e2e_batch", TARGET_BATCH_RATIO),
                         ("e2e_single", TARGET_SINGLE_RATIO)):
        if _ratio(getattr(res, name), res) is not None:
            check(f"{name} ratio>={target}", _ratio(getattr(res, name), res) >= target)
    if res.drain:
        check(f"worker CPU<={TARGET_WORKER_CPU_MS}ms", res.drain["worker_ms"] <= TARGET_WORKER_CPU_MS)
        check(f"PostgreSQL CPU<={TARGET_POSTGRES_CPU_MS}ms", res.drain["pg_ms"] <= TARGET_POSTGRES_CPU_MS)
    if any((res.throughput, res.drain, res.e2e_batch, res.e2e_single)):
        check("every attempt recorded", res.ok)
    if res.throughput or res.drain:
        check(f"rss<{TARGET_RSS_MB}MB", res.rss_mb < TARGET_RSS_MB)
    for timeout_ms, (figures, _) in res.steady.items():
        check(f"steady p99<={TARGET_STEADY_P99_MS}ms (timeout={timeout_ms}ms)",
              figures.percentile(99) <= TARGET_STEADY_P99_MS)
    return "targets: " + "; ".join(checks)


@contextmanager
def phase(name, title, others, res):
    """Print a phase's heading, and after it the share of the CPUs other processes took meanwhile."""
    print(f"{name}: {title}", flush=True)
    mark = others.mark()
    yield
    share = others.share(mark)
    res.other_cpu = max(res.other_cpu, share)
    print(f"  other processes used {share:.0%} of the machine's CPU during this phase", flush=True)


def run(args, stack):
    """Run the phases in order and print their figures; return True when every attempt was recorded."""
    env = bench_environment(args)
    os.environ.update(env)  # before importing app: tasks.broker picks its broker at import time
    for name in ("REDIS_URL", WORKER_TIMEOUT_ENV):
        os.environ.pop(name, None)
    from app import create_app

    ensure_database(args.database_url)
    app = create_app()
    rcv = Receiver()
    stack.callback(rcv.stop)
    others = OtherLoad(urlsplit(args.database_url).path.lstrip("/"))
    others.start()
    stack.callback(others.stop)
    print(f"receiver {rcv.url} (own process); capacity about {receiver.measure_capacity(2):.0f} requests/s",
          flush=True)
    res, layout = Results(), f"{args.processes} processes x {args.threads} threads"
    if "throughput" not in args.skip:
        with phase("throughput", f"{args.messages} messages sent while the worker runs, {layout}", others, res):
            res.throughput = throughput_phase(args, env, app, rcv, stack, others)
    if "drain" not in args.skip:
        with phase("drain", f"{args.messages} messages enqueued first, then the worker started, {layout}",
                   others, res):
            res.drain = drain_phase(args, env, app, rcv, stack, others)
    if "e2e_batch" not in args.skip:
        with phase("e2e_batch", f"{args.messages} messages posted 500 a call to the web process while the worker "
                   f"delivers, {layout}", others, res):
            res.e2e_batch = e2e_phase(args, env, app, rcv, stack, others, batched=True)
    if "e2e_single" not in args.skip:
        with phase("e2e_single", f"{args.messages} messages posted one a call by {args.clients} producers while the "
                   f"worker delivers, {layout}", others, res):
            res.e2e_single = e2e_phase(args, env, app, rcv, stack, others, batched=False)
    if "ceiling" not in args.skip:
        with phase("ceiling", f"POST + INSERT + COMMIT with no queue, {layout}", others, res):
            res.ceiling, res.ceiling_cpu_ms = ceiling_phase(args, rcv, others)
    for timeout_ms in args.steady_timeouts if "steady" not in args.skip else ():
        with phase("steady", f"{args.steady_rate:g} messages/s for {args.steady_seconds:g} s to an idle worker, "
                   f"{WORKER_TIMEOUT_ENV}={timeout_ms}", others, res):
            res.steady[timeout_ms] = steady_phase(args, env, app, rcv, timeout_ms, stack, others)
    print(targets_line(res))
    print(summary_line(args, res), flush=True)
    return res.ok


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run_stopping_cleanly(run, args):
    """Run run(args, stack); whatever it started on the stack (receivers, workers) is stopped on exit, Ctrl-C or
    SIGTERM included. Returns the exit status: 0 when run returned true, 1 when false, 130 when interrupted."""
    signal.signal(signal.SIGTERM, _interrupt)
    with ExitStack() as stack:
        try:
            ok = run(args, stack)
        except KeyboardInterrupt:
            print("interrupted; stopping the workers and the receivers", file=sys.stderr)
            return 130
    return 0 if ok else 1


def main(argv=None):
    """Entry point: run, and stop the receiver and any worker on exit, Ctrl-C or SIGTERM included."""
    return run_stopping_cleanly(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
