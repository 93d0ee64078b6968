"""Helpers the benchmark scripts share."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from tests.support.processes import ROOT, free_port, procfile_command


def ensure_database(url):
    """Create the PostgreSQL database named in url if it does not exist yet."""
    dbname = urlsplit(url).path.lstrip("/")
    admin_url = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            conn.execute(f'CREATE DATABASE "{dbname}"')


def add_service_options(parser, database, redis_db):
    """--database-url and --redis-url, from BENCH_DATABASE_URL and BENCH_REDIS_URL when set, else the database named
    database on 127.0.0.1 and Redis db redis_db."""
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 f"postgresql://postgres@127.0.0.1/{database}"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", f"redis://127.0.0.1:6379/{redis_db}"))


def check_service_options(args, flushes_redis=True):
    """Exit, saying why, when --database-url names a database whose name lacks "bench" (it is dropped) or, for a
    script that flushes its Redis db, when --redis-url names db 0 or 15."""
    if "bench" not in urlsplit(args.database_url).path:
        sys.exit("refusing to drop a database whose name does not contain 'bench'")
    if flushes_redis and int(urlsplit(args.redis_url).path.lstrip("/") or 0) in (0, 15):
        sys.exit("refusing to flush Redis db 0 or 15")


def fresh_database(url, env):
    """Drop and create the PostgreSQL database named in url, then migrate it (env: the app's settings for flask)."""
    server, dbname = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)


def order(i):
    """A ~1 KB order message, as a shop would send it."""
    return {"event_type": "order.created", "reference": f"#{100000 + i}", "tags": [f"QR{i:08d}"],
            "payload": {"id": f"ord_{i:010d}", "customer": {"id": f"cus_{i % 977:06d}", "email": "b@example.com"},
                        "currency": "EUR", "total": 1999 + i % 500, "items": [{"sku": "SKU-0001", "qty": 1}],
                        "note": "x" * 820}}


class Server:
    """The Procfile's web process (gunicorn) on a free port, with its own environment."""

    def __init__(self, env):
        self.port = free_port()
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"hookyard-bench-api-{self.port}.log", "wb")
        path = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])  # gunicorn beside python
        env = {**env, "PORT": str(self.port), "PATH": path}
        self.proc = subprocess.Popen(procfile_command("web"), cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", self.port, timeout=1).request("GET", "/api/v1/openapi.json")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the web process did not start; see {self.log.name}")

    def cpu_seconds(self):
        """User + system CPU of the gunicorn processes (master and workers) so far."""
        ticks = 0
        for pid in [self.proc.pid, *_descendants(self.proc.pid)]:
            try:
                stat = Path(f"/proc/{pid}/stat").read_bytes()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2:].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self):

        if self.proc.poll() is None:  # stopped once already, or it died
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        self.log.close()


def _descendants(pid):
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_bytes()
                except OSError:
                    continue
                if int(stat[stat.rfind(b")") + 2:].split()[1]) == parent:
                    found.append(int(entry))
                    frontier.append(int(entry))
    return found


class Client:
    """One kept-alive connection posting JSON with an API key."""

    def __init__(self, port, key):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(self, path, body, expect=202):
        started = time.perf_counter()
        self.connection.request("POST", path, json.dumps(body), self.headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status != expect:
            raise RuntimeError(f"{path} answered {response.status}: {data[:300]!r}")
        return time.perf_counter() - started
