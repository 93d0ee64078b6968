"""Scheduled delivery benchmark: are messages scheduled ahead sent at their time, and none before it?

    python bench/scheduled.py                     # 1,000 messages scheduled 5 s ahead
    python bench/scheduled.py --count 200 --ahead 3
    python bench/scheduled.py --max-in-flight 16     # the endpoint may take 16 worker slots, not 4

The Procfile's worker (`dramatiq tasks.worker`, --processes x --threads) on PostgreSQL + Redis. --count messages
are written with deliver_at --ahead seconds from now (in commits of 100, as a producer scheduling a campaign
would), to one endpoint that answers at once. For each, the lateness is the start of its one successful attempt
minus its deliver_at; an attempt started before deliver_at is early. The target: every one sent within 2 s of its
time, none early. The database named in --database-url is dropped and re-migrated (its name must contain
"bench"); the Redis db is flushed (not 0 or 15).
"""

import os
import sys
import time
from datetime import timedelta

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
from fairness import p

#: Messages a commit.
PER_COMMIT = 100
#: The target: sent within this many seconds of deliver_at.
ON_TIME_SECONDS = 2.0


def parse_args(argv=None):
    parser = worker_bench_parser(__doc__)
    parser.add_argument("--count", type=int, default=1000, help="messages scheduled")
    parser.add_argument("--ahead", type=float, default=5.0, help="seconds ahead they are scheduled")
    parser.add_argument("--max-in-flight", type=int, default=None,
                        help="the endpoint's worker slots (default: WEBHOOK_MAX_IN_FLIGHT, 4)")
    args = parser.parse_args(argv)
    check_targets_are_disposable(args)
    return args


def lateness_s(dsn):
    """[(seconds from deliver_at to the start of the successful attempt)] of every succeeded delivery."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM a.started_at - m.deliver_at) FROM delivery_attempts a"
            " JOIN deliveries d ON d.id = a.delivery_id JOIN messages m ON m.id = d.message_id"
            " WHERE d.status = 'succeeded' AND a.response_status = 200 AND m.deliver_at IS NOT NULL").fetchall()
    return sorted(float(row[0]) for row in rows)


def run(args, stack):
    env = bench_environment(args)
    os.environ.update(env)  # before importing app: tasks.broker picks its broker at import time
    os.environ.pop("REDIS_URL", None)
    from app import create_app
    from app.delivery.endpoints.service import create_endpoint
    from app.delivery.messages import send_message
    from app.extensions import db
    from app.models import utcnow

    ensure_database(args.database_url)
    app = create_app()
    reset_state(args, env, app)
    receiver = Receiver()
    stack.callback(receiver.stop)
    with app.app_context():
        create_endpoint(receiver.url + "hook", name="campaign", max_in_flight=args.max_in_flight)
    worker = Worker(args.processes, args.threads, env)
    stack.callback(worker.stop)
    worker.wait_ready()

    written = time.monotonic()
    with app.app_context():
        deliver_at = utcnow() + timedelta(seconds=args.ahead)
        for i in range(args.count):
            send_message("campaign.sent", make_payload(i), reference=f"campaign-{i}", deliver_at=deliver_at)
            if (i + 1) % PER_COMMIT == 0 or i == args.count - 1:
                db.session.commit()
    print(f"{args.count} messages written in {time.monotonic() - written:.2f} s, due {args.ahead:g} s after the first")
    deadline = time.monotonic() + args.ahead + 120
    while len(late := lateness_s(args.database_url)) < args.count and time.monotonic() < deadline:
        time.sleep(0.5)
    early = [s for s in late if s < 0]
    on_time = len(late) == args.count and not early and late[-1] <= ON_TIME_SECONDS
    print(f"sent: {len(late)} of {args.count}; early: {len(early)}; after their time: first {late[0]:.3f} s, "
          f"p50 {p(late, 50):.3f} s, "
          f"p99 {p(late, 99):.3f} s, last {late[-1]:.3f} s; target all within {ON_TIME_SECONDS:g} s, none early: "
          f"{'met' if on_time else 'MISSED'}")
    return on_time


def main(argv=None):
    return run_stopping_cleanly(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
