"""Ordered delivery benchmark: keyed messages arrive in order through retries and a killed worker, and cost little.

    python bench/ordering.py                           # 10,000 keyed messages over 50 keys, then as many unkeyed
    python bench/ordering.py --messages 2000           # a quicker look

The Procfile's worker (`dramatiq tasks.worker`, --processes x --threads) on PostgreSQL + Redis, with its sweep on
(every second, a short lease margin, a 30 s grace) so a killed worker's deliveries come back. Two phases, the same
in all but the key: --messages messages sent in commits of 500 (keyed: round-robin over --keys keys; unkeyed: none); the
receiver answers 500 to the first attempt of one message in --fail-every (chosen at random, the same ones in
both phases: a retry, --retry-schedule); once
--kill-at of the messages have succeeded the whole worker is SIGKILLed mid-batch and a new one started. The
receiver counts inversions: a request of a key whose webhook-sequence is lower than one it already answered 200
for that key. Rate: messages from the first enqueue to the last success. Targets: zero inversions, keyed rate
>= 50 % of unkeyed. The database named in --database-url is dropped and re-migrated (its name must contain
"bench"); the Redis db is flushed (not 0 or 15).
"""

import json
import os
import random
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
from deliveries import (  # bench/deliveries.py (run as a script: bench/ is on the path; it adds the project's)
    Worker,
    bench_environment,
    check_targets_are_disposable,
    ensure_database,
    make_payload,
    reset_state,
    run_stopping_cleanly,
    worker_bench_parser,
)


def parse_args(argv=None):
    parser = worker_bench_parser(__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--fail-every", type=int, default=50, help="one message in n fails its first attempt")
    parser.add_argument("--kill-at", type=float, default=0.3, help="share succeeded when the worker is killed")
    parser.add_argument("--retry-schedule", default="0.2,0.5,1,2,4,8,16")
    args = parser.parse_args(argv)
    check_targets_are_disposable(args)
    return args


class OrderCheckingReceiver:
    """Answers 200 (500 to the first attempt of every fail_every-th message) and counts order inversions."""

    def __init__(self, fail_every):
        self.lock = threading.Lock()
        self.answered = {}  # key -> highest sequence answered 200
        self.failed_once = set()
        self.inversions = []
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                status = receiver.answer(body["i"], body.get("key"), self.headers.get("webhook-sequence"),
                                         fail_every)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answer(self, number, key, sequence, fail_every):
        with self.lock:
            self.requests += 1
            if key is not None:
                sequence = int(sequence)
                if sequence < self.answered.get(key, 0):
                    self.inversions.append((key, sequence, self.answered[key]))
            if random.Random(number).randrange(fail_every) == 0 and number not in self.failed_once:
                self.failed_once.add(number)
                return 500
            if key is not None:
                self.answered[key] = max(self.answered.get(key, 0), sequence)
            return 200

    def stop(self):
        self.server.shutdown()


def send_all(app, count, keys, phase):
    """Send count messages in commits of 500; keyed round-robin over keys (None: no key)."""
    from app.delivery.messages import send_messages
    from app.extensions import db

    with app.app_context():
        for start in range(0, count, 500):
            items = []
            for i in range(start, min(start + 500, count)):
                key = f"{phase}-{i % keys}" if keys else None
                items.append({"event_type": f"{phase}.updated", "payload": {**make_payload(i), "i": i, "key": key},
                              "reference": f"{phase}-{i}", "ordering_key": key})
            send_messages(items)
            db.session.commit()


def counts(dsn, phase):
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT count(*) FILTER (WHERE d.status = 'succeeded'), count(*), "
            "extract(epoch FROM max(d.last_attempt_at) - min(m.created_at)) FROM deliveries d "
            "JOIN messages m ON m.id = d.message_id WHERE m.reference LIKE %s", (phase + "-%",)).fetchone()


def run_phase(args, env, app, phase, keys, stack):
    receiver = OrderCheckingReceiver(args.fail_every)
    stack.callback(receiver.stop)
    from app.delivery.endpoints.service import create_endpoint

    with app.app_context():
        create_endpoint(receiver.url, name=phase, event_types=[f"{phase}.*"], timeout_seconds=2)
    worker = Worker(args.processes, args.threads, env)
    stack.callback(worker.stop)
    worker.wait_ready()
    started = time.monotonic()
    send_all(app, args.messages, keys, phase)
    killed, killed_at = False, None
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        done, total, span = counts(args.database_url, phase)
        if not killed and done >= args.kill_at * args.messages:
            os.killpg(worker.proc.pid, signal.SIGKILL)  # every worker process, mid-batch
            worker.proc.wait()
            killed_at = done
            worker = Worker(args.processes, args.threads, env)
            stack.callback(worker.stop)
            worker.wait_ready()
            killed = True
        if done == total == args.messages:
            break
        time.sleep(0.2)
    else:
        raise RuntimeError(f"{phase}: only {done} of {args.messages} succeeded")
    worker.stop()
    receiver.stop()
    rate = args.messages / span
    print(f"{phase:8} {args.messages} messages{f' over {keys} keys' if keys else ''}: {rate:7.1f}/s "
          f"({span:.1f} s from the first enqueue to the last success; {time.monotonic() - started:.1f} s wall), "
          f"{receiver.requests} requests, worker killed after {killed_at} successes, "
          f"inversions {len(receiver.inversions)}")
    return rate, receiver.inversions


def run(args, stack):
    env = bench_environment(args)
    env.update(WEBHOOK_SWEEP_INTERVAL_SECONDS="1", WEBHOOK_SWEEP_GRACE_SECONDS="30", WEBHOOK_LEASE_MARGIN_SECONDS="2",
               WEBHOOK_RETRY_SCHEDULE=args.retry_schedule, WEBHOOK_RETRY_JITTER="0")
    os.environ.update(env)  # before importing app: tasks.broker picks its broker at import time
    os.environ.pop("REDIS_URL", None)
    from app import create_app

    ensure_database(args.database_url)
    app = create_app()
    reset_state(args, env, app)
    unkeyed, _ = run_phase(args, env, app, "unkeyed", 0, stack)
    keyed, inversions = run_phase(args, env, app, "keyed", args.keys, stack)
    ratio = keyed / unkeyed
    print(f"keyed/unkeyed {ratio:.2f} (target >= 0.50: {'met' if ratio >= 0.5 else 'MISSED'}); inversions "
          f"{len(inversions)} (target 0: {'met' if not inversions else 'MISSED'}) {inversions[:5]}")
    return ratio >= 0.5 and not inversions


def main(argv=None):
    return run_stopping_cleanly(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
