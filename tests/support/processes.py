"""Run Hookyard as real, separate processes for end-to-end tests: workers, the web server, commands.

Every child starts in a session of its own, so a whole tree (the dramatiq main process and the
worker processes it forks) can be signalled at once. A ProcessGroup kills whatever is still running
when a test ends, pass or fail.
"""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

# The Fernet key children get when they are not in embedded mode is the one TestConfig uses.
from app.config import PRODUCTION_VARIABLES, TEST_ENCRYPTION_KEY
from tests.support.waiting import wait_until

#: The project root: every command runs here, as the Procfile's do.
ROOT = Path(__file__).resolve().parents[2]
#: The line a dramatiq worker process logs once its threads are consuming.
WORKER_READY = "Worker process is ready for action."

# Settings a child must never inherit from the developer's shell or from the test run itself.
_SCRUBBED = {*PRODUCTION_VARIABLES, "SECRET_KEY", "SECRETS_ENCRYPTION_KEY", "HOOKYARD_INSTANCE_PATH",
             "WORKER_THREADS", "WORKER_PROCESSES"}
_SCRUBBED_PREFIXES = ("TEST_", "WEBHOOK_", "FLASK_")

# Run in a child with the worker's environment: create an endpoint and messages, commit (which
# enqueues to the broker BROKER_URL names) and print the ids as JSON.
_PRODUCE = """
import json, sys
from datetime import timedelta
from app import create_app
from app.delivery.endpoints.service import create_endpoint
from app.delivery.messages import send_message
from app.extensions import db
from app.models import utcnow

spec = json.loads(sys.argv[1])
app = create_app()
with app.app_context():
    endpoint, _ = create_endpoint(spec["url"], **spec["endpoint"])
    ids = []
    deliver_at = utcnow() + timedelta(seconds=spec["deliver_in"]) if spec["deliver_in"] else None
    for number in range(spec["count"]):
        message, _ = send_message(spec["event_type"], {"number": number}, endpoint_ids=[endpoint.id],
                                  deliver_at=deliver_at)
        ids.extend(d.id for d in message.deliveries)
        db.session.commit()
    print(json.dumps({"endpoint_id": endpoint.id, "delivery_ids": ids}))
"""


# Exec argv with SIGINT at its default and no core dumps. A child inherits an ignored SIGINT (pytest run
# in the background), and Python turns SIGINT into KeyboardInterrupt (Ctrl-C) only if it starts at the
# default; dump_stacks' SIGABRT must not leave a core file in the project.
_EXEC_WITH_SIGINT = ("import os, resource, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                     "resource.setrlimit(resource.RLIMIT_CORE, (0, 0)); os.execv(sys.argv[1], sys.argv[1:])")


def child_env(**settings):
    """Return a clean environment for a child process, plus settings (None values left out)."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED and not k.startswith(_SCRUBBED_PREFIXES)}
    # The Procfile's commands (dramatiq, flask) come from this interpreter's environment.
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    # PYTHONFAULTHANDLER: SIGABRT makes a stuck child print every thread's stack (see dump_stacks).
    env.update(PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1", FLASK_SKIP_DOTENV="1")
    env.update({k: str(v) for k, v in settings.items() if v is not None})
    return env


#: Short intervals for services under test, so recovery takes seconds instead of minutes.
FAST_RECOVERY = {
    "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",  # the test receiver listens on loopback
    "WEBHOOK_RETRY_SCHEDULE": "1,1,1",
    "WEBHOOK_RETRY_JITTER": "0",
    "WEBHOOK_SWEEP_GRACE_SECONDS": "1",
    "WEBHOOK_SWEEP_INTERVAL_SECONDS": "1",
    "WEBHOOK_LEASE_MARGIN_SECONDS": "1",
}


def service_env(database_url, broker_url, **settings):
    """Return the environment of a deployed web or worker process, with FAST_RECOVERY and settings."""
    return child_env(DATABASE_URL=database_url, BROKER_URL=broker_url, SECRET_KEY="e2e-secret-key",
                     SECRETS_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY, **{**FAST_RECOVERY, **settings})


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now, for a child process to listen on.

    Taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range), which the outgoing connections of every
    process on the machine draw from: a port from bind(("127.0.0.1", 0)) is one of those, and a connection opened
    meanwhile by anything (the other CI pass, a worker) could take it before the child listens on it."""
    low = _ephemeral_ports()[0]
    for _ in range(100):
        port = random.randrange(max(1024, low - 12_000), low)
        if port in _given:  # two calls in a row must not name one port
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            _given.add(port)
            return port
    raise AssertionError("no free port below the ephemeral range")


_given = set()  # the ports free_port returned in this process


def _ephemeral_ports():
    try:
        return tuple(int(part) for part in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def command(env, *args, timeout=60):
    """Run one command to completion in ROOT; return its stdout, failing with its output if it fails."""
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def flask(env, *args, timeout=60):
    """Run `flask --app app ARGS` and return its stdout."""
    return command(env, sys.executable, "-m", "flask", "--app", "app", *args, timeout=timeout)


def produce(env, url, count, event_type="order.created", deliver_in=None, **endpoint):
    """Create an endpoint for url and count messages to it in a child process (deliver_in: scheduled that many
    seconds ahead); return its ids.

    Returns {"endpoint_id": ..., "delivery_ids": [...]}; endpoint takes create_endpoint's keywords.
    """
    spec = {"url": url, "count": count, "event_type": event_type, "endpoint": endpoint, "deliver_in": deliver_in}
    out = command(env, sys.executable, "-c", _PRODUCE, json.dumps(spec))
    return json.loads(out.strip().splitlines()[-1])


def procfile_command(process_type):
    """Return the Procfile's command line for process_type, run as a platform runs it (sh -c)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, cmd = line.partition(":")
        if name.strip() == process_type:
            return ["sh", "-c", f"exec {cmd.strip()}"]
    raise AssertionError(f"the Procfile has no {process_type!r} process")


def server_command(port):
    """Return the newcomer's `flask --app app serve` command line on port, with SIGINT working."""
    return [sys.executable, "-c", _EXEC_WITH_SIGINT, sys.executable, "-m", "flask", "--app", "app", "serve",
            "--port", str(port)]


def http_ok(url):
    """Return True when GET url answers 200."""
    try:
        with urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Process:
    """One child process in its own session; output goes to a log file."""

    def __init__(self, name, args, env, log_path):
        self.name = name
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")  # closed in close()
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self):
        return self.popen.pid

    @property
    def running(self):
        return self.popen.poll() is None

    def log(self):
        return self.log_path.read_text(errors="replace")

    def describe(self, lines=60):
        """Return the last lines of the log, for an assertion message."""
        tail = "\n".join(self.log().splitlines()[-lines:])
        return f"--- {self.name} (pid {self.pid}, exit {self.popen.poll()}) ---\n{tail}"

    def wait_for_log(self, text, timeout=30, count=1):
        """Wait until text has appeared count times in the log; fail early if the process exits."""
        def seen():
            if self.log().count(text) >= count:
                return True
            if not self.running:
                raise AssertionError(f"{self.name} exited before logging {text!r}\n{self.describe()}")
            return False

        wait_until(seen, timeout, message=self.describe)

    def dump_stacks(self):
        """Make a stuck process print every thread's stack to its log, and end it."""
        if self.running:
            self.send(signal.SIGABRT)
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def send(self, signum):
        """Send signum to the main process only (as `docker stop` does)."""
        self.popen.send_signal(signum)

    def group_pids(self):
        """Return the pids of every live process in the child's process group, the main one first."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                pgrp = stat.read_text().rpartition(")")[2].split()[2]  # after "pid (comm)": state ppid pgrp
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(pgrp) == self.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids, key=lambda pid: pid != self.pid)

    def signal_each(self, signum, pause=0.5):
        """Send signum to every process in the group one by one: the others first, the main one last."""
        for pid in self.group_pids()[1:]:
            os.kill(pid, signum)
        time.sleep(pause)
        self.send(signum)

    def kill_group(self, signum=signal.SIGKILL):
        """Send signum to every process in the child's session (its process group)."""
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass

    def wait(self, timeout):
        """Wait for the main process to exit; return its exit code or fail after timeout seconds."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running after {timeout} s\n{self.describe()}") from None

    def close(self):
        """Kill anything left in the process group, reap the main process, close the log."""
        self.kill_group(signal.SIGKILL)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


class ProcessGroup:
    """Start processes for one test and kill them all at the end (use as the `processes` fixture)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.started = []

    def start(self, name, args, env):
        log_path = self.directory / f"{len(self.started):02d}-{name}.log"
        process = Process(name, args, env, log_path)
        self.started.append(process)
        return process

    def start_worker(self, env, name="worker", threads=4, timeout=60):
        """Start the Procfile's worker (one worker process) and wait until it consumes."""
        env = {**env, "WORKER_PROCESSES": "1", "WORKER_THREADS": str(threads)}
        worker = self.start(name, procfile_command("worker"), env)
        worker.wait_for_log(WORKER_READY, timeout)
        return worker

    def start_server(self, env, port, name="server", timeout=60):
        """Start `flask --app app serve` on port and wait until the API answers."""
        server = self.start(name, server_command(port), env)

        def up():
            if not server.running:
                raise AssertionError(f"{name} exited while starting\n{server.describe()}")
            return http_ok(f"http://127.0.0.1:{port}/api/v1/openapi.json")

        def stuck():
            server.dump_stacks()
            return server.describe(lines=200)

        wait_until(up, timeout, message=stuck)
        return server

    def describe(self):
        """Return every process's log tail, for an assertion message."""
        return "\n".join(p.describe() for p in self.started)

    def close(self):
        """Kill every process started, newest first."""
        for process in reversed(self.started):
            process.close()
