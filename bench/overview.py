"""Overview benchmark: the console's overview page over a million deliveries and their attempts.

    python bench/overview.py [--deliveries 1000000] [--failed 100000] [--days 30] [--runs 5]
                             [--database-url ...] [--skip-seed] [--explain]

What it does, in order:

1. seed (unless --skip-seed): the monitor benchmark's seed (bench/monitor.py: a fresh schema from the
   migrations, 20 endpoints, --deliveries messages and deliveries over --days days, exactly --failed
   failed, 7 % pending, 3 % cancelled), then one attempt row per attempt each delivery counts, ending
   with the delivery's own last status and error (earlier attempts failed with HTTP 500), durations of
   40-240 ms with a 5 % tail up to 3 s and 10 s for timeouts. Then VACUUM ANALYZE.
2. figures: each overview query function on its own, --runs times after one warm-up (median/max ms).
3. pages: signs an admin in through the real login form and times the overview, its refresh fragment,
   the largest error group's "see the group" monitor page and its "retry this group" confirmation.
   The SQL of the fragment's median run is captured; EXPLAIN (ANALYZE, BUFFERS) is printed for its
   statements of 20 ms or more (all of them with --explain).
4. check: every figure against plain SQL written here independently (attempt counts and successes, failed
   in the last hour, pending, p95, the chart's totals, the top group's count).

The last line has every figure and whether the target was met: the overview page under 300 ms (median
and max). --days 1 puts every delivery into the last 24 hours: the busiest day the charts can show.
The database's schema is dropped when seeding, so its name must contain "bench" or "scale". Nothing is
sent to Redis: the pages only read. Run it on an otherwise idle machine.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import monitor  # noqa: E402  bench/monitor.py: the seed, the signed-in client and the SQL recorder

#: The issue's target for the overview page.
TARGET_PAGE_MS = 300
#: Statements at least this slow get their plan printed.
EXPLAIN_MS = 20

#: One attempt per attempt a delivery counts; the last one carries the delivery's own outcome.
#: h: a stable pseudo-random number per attempt, for its duration.
SEED_ATTEMPTS = """
INSERT INTO delivery_attempts (delivery_id, endpoint_id, number, trigger, started_at, duration_ms, request_url,
                               request_headers, response_status, error_class, error, will_retry)
SELECT id, endpoint_id, n, 'scheduled',
       CASE WHEN n = attempt_count THEN last_attempt_at
            ELSE least(created_at + (n - 1) * (n - 1) * interval '20 minutes', last_attempt_at) END,
       CASE WHEN last_error_class = 'timeout' AND n = attempt_count THEN 10000
            ELSE 40 + h %% 200 + CASE WHEN h %% 100 < 5 THEN h %% 3000 ELSE 0 END END,
       'http://127.0.0.1:9/hooks', '{}',
       CASE WHEN n = attempt_count THEN last_response_status ELSE 500 END,
       CASE WHEN n = attempt_count THEN last_error_class ELSE 'http' END,
       CASE WHEN n = attempt_count THEN last_error ELSE 'HTTP 500 Internal Server Error' END,
       n < attempt_count
FROM (SELECT d.*, n, ('x' || substr(md5(d.id || n), 1, 8))::bit(32)::int & 2147483647 AS h
      FROM deliveries d, generate_series(1, d.attempt_count) AS n WHERE d.attempt_count > 0) AS a
"""


def parse_args(argv=None):
    """Read the command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deliveries", type=int, default=1_000_000, help="deliveries (and messages) to seed")
    p.add_argument("--failed", type=int, default=100_000, help="how many of them are failed")
    p.add_argument("--days", type=float, default=monitor.DAYS, help="the days the deliveries are spread over")
    p.add_argument("--runs", type=int, default=5, help="timed runs of each figure and page, after one warm-up")
    p.add_argument("--skip-seed", action="store_true", help="reuse the database a previous run seeded")
    p.add_argument("--explain", action="store_true", help="print the plan of every statement the page runs")
    p.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/hk_overview_bench"))
    args = p.parse_args(argv)
    monitor.refuse_lasting_database(p, args.database_url)
    args.redis_url = ""  # the pages only read: the in-memory broker is enough
    return args


def seed(args, app):
    """Seed deliveries as the monitor benchmark does, spread over --days, then their attempts."""
    monitor.DAYS = args.days
    seeded = monitor.seed(args, app)
    t0 = time.monotonic()
    with monitor.connect(args.database_url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        rows = conn.execute(SEED_ATTEMPTS, {}).rowcount
        print(f"  attempts: {rows:,} rows in {time.monotonic() - t0:.1f} s", flush=True)
        conn.execute("VACUUM ANALYZE delivery_attempts")
    seeded.seconds += time.monotonic() - t0
    return seeded


def timed(function, runs):
    """Call function once to warm up, then runs times; return (median ms, max ms, last result)."""
    result = function()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = function()
        ms.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ms), max(ms), result


def measure_figures(app, runs, now):
    """Time each overview query function alone; print one line each."""
    from app.console import overview as ov

    functions = {
        "attempt_success_1h": lambda: ov.attempt_success(now - ov.HOUR),
        "attempt_success_24h": lambda: ov.attempt_success(now - ov.DAY),
        "failed_1h": lambda: ov.failed_since(now - ov.HOUR),
        "pending_backlog": ov.pending_backlog,
        "endpoint_counts": ov.endpoint_counts,
        "attempt_p95_24h": lambda: ov.attempt_p95_ms(now - ov.DAY),
        "delivery_buckets": lambda: ov.delivery_buckets(now),
        "latency_buckets": lambda: ov.latency_buckets(now),
        "top_errors": ov.top_errors,
    }
    figures = {}
    with app.app_context():
        for name, function in functions.items():
            median, worst, _ = timed(function, runs)
            figures[name] = median
            print(f"  {name:<22} median {median:6.1f} ms  max {worst:6.1f} ms", flush=True)
    return figures


def page_urls(app, now):
    """The overview, its fragment, and the largest error group's monitor page and retry confirmation."""
    from flask import url_for

    from app.console.overview import top_errors

    with app.test_request_context():
        urls = {"overview": "/admin/overview/", "overview_fragment": "/admin/overview/figures"}
        groups = top_errors(limit=1)
        if groups:
            args = groups[0].filter().to_args()
            urls["see_the_group"] = url_for("monitor.index_view", **args)
            urls["retry_group_confirmation"] = url_for("jobs.confirm_retry", **args)
    return urls


def measure_pages(app, recorder, runs, now):
    """Time each page through a signed-in test client; return {name: (median, max, statements)}."""
    client = monitor.signed_in_client(app)
    results = {}
    for name, url in page_urls(app, now).items():
        def get(url=url):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
        get()
        runs_ms = []
        for _ in range(runs):
            recorder.start()
            t0 = time.perf_counter()
            get()
            runs_ms.append(((time.perf_counter() - t0) * 1000, recorder.stop()))
        median_run = sorted(runs_ms, key=lambda r: r[0])[len(runs_ms) // 2]
        ms = [r[0] for r in runs_ms]
        results[name] = (statistics.median(ms), max(ms), median_run[1])
        sql_ms = sum(s.ms for s in median_run[1])
        print(f"  {name:<25} median {results[name][0]:6.1f} ms  max {results[name][1]:6.1f} ms  "
              f"sql {sql_ms:6.1f} ms in {len(median_run[1])} statements  {url}", flush=True)
    return results


def print_plans(app, statements, everything):
    """EXPLAIN (ANALYZE, BUFFERS) the fragment's statements: the slow ones, or all with --explain."""
    for statement in statements:
        if not everything and statement.ms < EXPLAIN_MS:
            continue
        print(f"\n--- {statement.ms:.1f} ms in the view ---")
        print(monitor._inline(statement))
        print(monitor.explain(app, statement))


#: Independent SQL for each checked figure; %(since)s / %(hour)s / %(start)s are bound per check.
CHECKS = {
    "attempts_1h": ("SELECT count(*), count(*) FILTER (WHERE error_class IS NULL) FROM delivery_attempts "
                    "WHERE started_at >= %(hour)s AND trigger != 'test'"),
    "attempts_24h": ("SELECT count(*), count(*) FILTER (WHERE error_class IS NULL) FROM delivery_attempts "
                     "WHERE started_at >= %(day)s AND trigger != 'test'"),
    "failed_1h": "SELECT count(*) FROM deliveries WHERE status = 'failed' AND resolved_at IS NULL "
                  "AND last_attempt_at >= %(hour)s",
    "pending": "SELECT count(*), min(created_at) FROM deliveries WHERE status = 'pending'",
    "p95_24h": ("SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FROM delivery_attempts "
                "WHERE started_at >= %(day)s AND trigger != 'test'"),
    "chart_total": "SELECT count(*) FROM deliveries WHERE created_at >= %(start)s",
    "chart_attempts": "SELECT count(*) FROM delivery_attempts WHERE started_at >= %(start)s AND trigger != 'test'",
}


def check_figures(app, args, now):
    """Compare the overview's figures with plain SQL; print each; return True when all agree."""
    from app.console import overview as ov

    with app.app_context():
        o = ov.take_overview(now)
    shown = {
        "attempts_1h": (o.success_1h.attempts, o.success_1h.succeeded),
        "attempts_24h": (o.success_24h.attempts, o.success_24h.succeeded),
        "failed_1h": (o.failed_1h,), "pending": (o.backlog.pending, o.backlog.oldest_created_at),
        "p95_24h": (o.p95_ms_24h,), "chart_total": (sum(b.total for b in o.deliveries),),
        "chart_attempts": (sum(b.attempts for b in o.latency),),
    }
    params = {"hour": now - ov.HOUR, "day": now - ov.DAY, "start": ov.chart_start(now)}
    ok = True
    with psycopg.connect(args.database_url) as conn:
        for name, sql in CHECKS.items():
            want = tuple(conn.execute(sql, params).fetchone())
            if name == "p95_24h" and want[0] is not None:
                want = (int(round(want[0])),)
            agree = want == shown[name]
            ok &= agree
            print(f"  {name:<15} page {shown[name]}  sql {want}  {'ok' if agree else 'MISMATCH'}")
        if o.top_errors:
            group = o.top_errors[0]
            status = "last_response_status IS NULL" if group.http_status is None else "last_response_status = %s"
            want = conn.execute(
                f"SELECT count(*) FROM deliveries WHERE status = 'failed' AND resolved_at IS NULL "
                f"AND endpoint_id = %s "
                f"AND last_error_class = %s AND {status}",
                [group.endpoint_id, group.error_class.value] + ([group.http_status] if group.http_status else []),
            ).fetchone()[0]
            ok &= want == group.count
            print(f"  top group       page {group.count}  sql {want}  {'ok' if want == group.count else 'MISMATCH'}")
    return ok


def summary_line(seeded, args, figures, pages, checks_ok):
    overview_median, overview_max, _ = pages["overview"]
    met = overview_median < TARGET_PAGE_MS and overview_max < TARGET_PAGE_MS
    parts = [f"deliveries={seeded.total}", f"days={args.days:g}"]
    parts += [f"{name}={median:.0f}/{worst:.0f}ms" for name, (median, worst, _) in pages.items()]
    parts += [f"{name}={ms:.0f}ms" for name, ms in figures.items()]
    return " ".join(parts) + (f" | overview<{TARGET_PAGE_MS}ms={'yes' if met else 'NO'} "
                              f"figures_match={'yes' if checks_ok else 'NO'}"), met and checks_ok


def main(argv=None):
    args = parse_args(argv)
    monitor.configure_environment(args)
    from app import create_app
    from app.extensions import db
    from app.models import utcnow

    app = create_app()
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"database {urlsplit(args.database_url).path.lstrip('/')}", flush=True)
    if args.skip_seed:
        seeded = monitor.read_seeded(args)
        monitor.create_admin(app)
    else:
        print(f"seed: {args.deliveries:,} deliveries over {args.days:g} days, and their attempts", flush=True)
        seeded = seed(args, app)
        print(f"  seeded in {seeded.seconds:.1f} s")
    monitor.check_seeded(args, seeded)
    print("  " + ", ".join(f"{name} {rows:,} rows ({size} with indexes)"
                           for name, rows, size in monitor.table_sizes(args.database_url)))
    with psycopg.connect(args.database_url) as conn:
        attempts = conn.execute("SELECT count(*) FROM delivery_attempts").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('delivery_attempts'))").fetchone()[0]
    print(f"  delivery_attempts {attempts:,} rows ({size} with indexes)")
    print(f"  {monitor.postgres_settings(args.database_url)}", flush=True)

    now = utcnow()
    print(f"\nfigures: each query function alone, warm-up then {args.runs} runs", flush=True)
    figures = measure_figures(app, args.runs, now)
    print(f"\npages: warm-up then {args.runs} runs each, signed in as an admin (target {TARGET_PAGE_MS} ms)",
          flush=True)
    with app.app_context():
        recorder = monitor.SqlRecorder(db.engine)
    pages = measure_pages(app, recorder, args.runs, now)
    print_plans(app, pages["overview_fragment"][2], args.explain)
    print("\ncheck: the overview's figures against plain SQL", flush=True)
    checks_ok = check_figures(app, args, utcnow() - timedelta(seconds=1))
    print(f"\nload average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    line, ok = summary_line(seeded, args, figures, pages, checks_ok)
    print(line, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
