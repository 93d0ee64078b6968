"""Fair share benchmark: does one slow partner's backlog hold up another partner's webhooks?

    python bench/fairness.py                      # a 2 s endpoint with a backlog of 400, another at 5/s
    python bench/fairness.py --hang               # an endpoint that hangs until its 10 s timeout, backlog 2,000,
                                                  # another at 20/s
    python bench/fairness.py --backlog 100 --fast-count 30    # a quicker look

The Procfile's worker (`dramatiq tasks.worker`, --processes x --threads) on PostgreSQL + Redis, as a shop runs
it. Endpoint A answers after --slow-delay seconds (never failing, so its breaker stays closed) and has a backlog
of --backlog webhooks, half sent one message a commit and half in commits of 50 (as the batch call writes
them). Endpoint B answers at once; --fast-count messages are sent to it at --fast-rate a second, first with B
alone (its latency alone), then while A's backlog drains. Latency is from the message's created_at to the end
of its successful attempt. The target: B's p99 beside A's backlog <= max(1 s, 3 x its p99 alone), and A keeps
draining meanwhile (its deliveries per second are printed). The database named in --database-url is dropped and
re-migrated (its name must contain "bench"); the Redis db is flushed (not 0 or 15).
"""

import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
from deliveries import (  # bench/deliveries.py (run as a script: bench/ is on the path; it adds the project's)
    Receiver,
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
    parser.add_argument("--slow-delay", type=float, default=2.0, help="seconds endpoint A takes to answer")
    parser.add_argument("--backlog", type=int, default=400, help="endpoint A's backlog")
    parser.add_argument("--fast-rate", type=float, default=5.0, help="endpoint B's messages per second")
    parser.add_argument("--fast-count", type=int, default=50, help="endpoint B's messages in each phase")
    parser.add_argument("--hang", action="store_true",
                        help="A hangs past its 10 s timeout, backlog 2,000, B at 20/s (unless given)")
    args = parser.parse_args(argv)
    if args.hang:
        args.slow_delay = 30.0
        args.backlog = 2000 if args.backlog == 400 else args.backlog
        args.fast_rate = 20.0 if args.fast_rate == 5.0 else args.fast_rate
    check_targets_are_disposable(args)
    return args


class SlowReceiver:
    """Answers 200 after delay seconds (or hangs past the sender's deadline), one thread per connection."""

    def __init__(self, delay):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self):
        self.server.shutdown()


def send(app, event_type, count, prefix, *, rate=None, per_commit=1):
    """Send count messages of event_type, per_commit to a commit, paced at rate a second if given."""
    from app.delivery.messages import send_message
    from app.extensions import db

    with app.app_context():
        started = time.monotonic()
        for i in range(count):
            if rate:
                time.sleep(max(started + i / rate - time.monotonic(), 0))
            send_message(event_type, make_payload(i), reference=f"{prefix}-{i}")
            if (i + 1) % per_commit == 0 or i == count - 1:
                db.session.commit()


def latencies_ms(dsn, prefix):
    """End-to-end latency of each successful delivery of messages referenced prefix-N, in ms."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT (extract(epoch FROM a.started_at) + a.duration_ms / 1000.0 - extract(epoch FROM m.created_at))"
            " * 1000 FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id"
            " JOIN messages m ON m.id = d.message_id"
            " WHERE d.status = 'succeeded' AND a.response_status = 200 AND m.reference LIKE %s", (prefix + "-%",),
        ).fetchall()
    return sorted(float(r[0]) for r in rows)


def wait_for(dsn, prefix, count, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(latencies_ms(dsn, prefix)) >= count:
            return
        time.sleep(0.5)
    raise RuntimeError(f"only {len(latencies_ms(dsn, prefix))} of {count} {prefix} deliveries succeeded")


def succeeded(dsn, endpoint_id):
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM deliveries WHERE endpoint_id = %s AND status = 'succeeded'",
                            (endpoint_id,)).fetchone()[0]


def p(values, percent):
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] if len(values) > 1 else values[0]


def run(args, stack):
    env = bench_environment(args)
    os.environ.update(env)  # before importing app: tasks.broker picks its broker at import time
    os.environ.pop("REDIS_URL", None)
    from app import create_app
    from app.delivery.endpoints.service import create_endpoint

    ensure_database(args.database_url)
    app = create_app()
    reset_state(args, env, app)
    fast, slow = Receiver(), SlowReceiver(args.slow_delay)
    stack.callback(fast.stop)
    stack.callback(slow.stop)
    with app.app_context():
        slow_id = create_endpoint(slow.url + "hook", name="slow ERP", event_types=["slow.*"])[0].id
        create_endpoint(fast.url + "hook", name="QR printer", event_types=["fast.*"])
    worker = Worker(args.processes, args.threads, env)
    stack.callback(worker.stop)
    worker.wait_ready()
    dsn = args.database_url

    send(app, "fast.tick", args.fast_count, "alone", rate=args.fast_rate)
    wait_for(dsn, "alone", args.fast_count, 60)
    alone = latencies_ms(dsn, "alone")

    half = args.backlog // 2
    send(app, "slow.tick", half, "slow-single")
    send(app, "slow.tick", args.backlog - half, "slow-batch", per_commit=50)
    started, slow_before = time.monotonic(), succeeded(dsn, slow_id)
    send(app, "fast.tick", args.fast_count, "beside", rate=args.fast_rate)
    wait_for(dsn, "beside", args.fast_count, 120)
    window, slow_after = time.monotonic() - started, succeeded(dsn, slow_id)
    beside = latencies_ms(dsn, "beside")

    target = max(1000.0, 3 * p(alone, 99))
    print(f"B alone:        p50 {p(alone, 50):7.1f} ms  p99 {p(alone, 99):7.1f} ms  ({len(alone)} webhooks)")
    print(f"B beside A:     p50 {p(beside, 50):7.1f} ms  p99 {p(beside, 99):7.1f} ms  ({len(beside)} webhooks)"
          f"  target p99 <= {target:.0f} ms: {'met' if p(beside, 99) <= target else 'MISSED'}")
    print(f"A meanwhile:    {slow_after - slow_before} of its {args.backlog} delivered in {window:.1f} s "
          f"({(slow_after - slow_before) / window:.2f}/s; answers after {args.slow_delay:g} s)")
    return p(beside, 99) <= target


def main(argv=None):
    return run_stopping_cleanly(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
