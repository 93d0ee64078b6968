"""Producer benchmark: CPU per event of both producers, calls/s for one and for concurrent clients, batch messages/s.

    python bench/api.py [--calls 3000] [--concurrency 8] [--batches 40] [--batch-size 500] [--sends 3000]
                        [--skip send,single,concurrent,batch] [--wake-by-broker] [--database-url ...]
                        [--redis-url ...]

The Procfile's web command (gunicorn) serves the API on PostgreSQL + Redis; no worker runs, so only
the producer side is measured. Phases, each on a freshly migrated database:

0. send: this process, as a shop's own code would, calls `send_message()` + commit --sends times, one
   event a transaction (the same ~1 KB order, one matching endpoint; the workers are woken by the write's
   NOTIFY, WEBHOOK_WAKE_BY_NOTIFY, so the commit makes no broker call): events/s and this process's CPU per
   event (`time.process_time`, every thread).

1. single: one client sends --calls `POST /api/v1/messages` (a ~1 KB order, one matching endpoint),
   one after another over a kept-alive connection: calls/s, p50/p99, and the server's CPU per call
   (user + system time of the gunicorn processes, divided by the calls).
2. concurrent: --concurrency clients at once, --calls each: calls/s and p50/p99 of each call.
3. batch: `POST /api/v1/messages/batch` with --batch-size messages, --batches times: messages/s and
   the server's CPU per message.

Clients are threads in this process with http.client (cheap), so they share the 2 CPUs with the server
as any producer on the same machine would; the last line is one line of figures. The database named in
--database-url is dropped and recreated (its name must contain "bench"); the Redis db is flushed.
"""

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import (  # noqa: E402  bench/common.py
    Client,
    Server,
    add_service_options,
    check_service_options,
    fresh_database,
    order,
)

from app.config import TEST_ENCRYPTION_KEY  # noqa: E402
from tests.support.processes import child_env  # noqa: E402

#: Targets from the issue that asked for this benchmark.
TARGET_CPU_MS, TARGET_CONCURRENT_RATE, TARGET_CONCURRENT_P99_MS, TARGET_BATCH_RATE = 1.2, 800, 30, 5000
#: Producer CPU per `send_message()` + commit (issue 18).
TARGET_SEND_CPU_MS = 0.6


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=3000, help="calls per client")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--batches", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--sends", type=int, default=3000, help="send_message() + commit calls (send phase)")
    p.add_argument("--wake-by-broker", action="store_true",
                   help="WEBHOOK_WAKE_BY_NOTIFY=0: a commit sends its wake-up to the broker (the code before it)")
    p.add_argument("--endpoints", type=int, default=1, help="endpoints: one takes every message, the others' filters "
                   "(invoice.*) none, so each message still makes one delivery")
    p.add_argument("--skip", default="", help="comma-separated phases to skip: send,single,concurrent,batch")
    add_service_options(p, "hookyard_bench_api", 9)
    args = p.parse_args(argv)
    check_service_options(args)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    return args


def prepare(args):
    """Fresh database and Redis db, migrations, one endpoint and an API key; return (env, key)."""
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    env = child_env(DATABASE_URL=args.database_url, BROKER_URL=args.redis_url, SECRET_KEY="bench-secret-key",
                    SECRETS_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY, WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
                    WEBHOOK_WAKE_BY_NOTIFY="0" if args.wake_by_broker else "1")
    fresh_database(args.database_url, env)
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    script = ("from app import create_app; from app.delivery.endpoints.service import create_endpoint\n"
              "from app.extensions import db\n"
              "with create_app().app_context():\n"
              "    create_endpoint('http://127.0.0.1:9/hook', name='bench')\n"
              f"    for i in range({args.endpoints - 1}):\n"
              "        create_endpoint('http://127.0.0.1:9/hook', name=f'other {i}', event_types=['invoice.*'])\n"
              "    db.session.commit()")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True)
    out = subprocess.run([*flask, "api-keys", "create", "bench"], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return env, out.strip().splitlines()[-1]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def send(env, sends):
    """send_message() + commit in this process, one event a transaction; CPU per event."""
    os.environ.update(env)
    from app import create_app
    from app.delivery.messages import send_message
    from app.extensions import db

    app = create_app()
    bodies = [order(i) for i in range(sends + 50)]
    with app.app_context():
        for body in bodies[:50]:  # warm up: connections, statement caches
            send_message(**body)
            db.session.commit()
        cpu, started = time.process_time(), time.perf_counter()
        for body in bodies[50:]:
            send_message(**body)
            db.session.commit()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.remove()
        db.engine.dispose()
    return {"send_rate": sends / elapsed, "send_cpu_ms_per_event": cpu / sends * 1000}


def single(server, key, calls):
    client = Client(server.port, key)
    for i in range(50):  # warm up: connections, statement caches
        client.post("/api/v1/messages", order(i))
    cpu, started = server.cpu_seconds(), time.perf_counter()
    latencies = [client.post("/api/v1/messages", order(i)) for i in range(calls)]
    elapsed, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
    return {"single_rate": calls / elapsed, "single_p50_ms": percentile(latencies, .5) * 1000,
            "single_p99_ms": percentile(latencies, .99) * 1000, "cpu_ms_per_call": cpu / calls * 1000}


def concurrent(server, key, clients, calls):
    latencies, errors = [], []
    barrier = threading.Barrier(clients + 1)

    def run(n):
        client = Client(server.port, key)
        client.post("/api/v1/messages", order(n))
        barrier.wait()
        try:
            mine = [client.post("/api/v1/messages", order(n * calls + i)) for i in range(calls)]
        except Exception as exc:  # noqa: BLE001  reported below
            errors.append(exc)
            return
        latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return {"concurrent_rate": len(latencies) / elapsed, "concurrent_p50_ms": percentile(latencies, .5) * 1000,
            "concurrent_p99_ms": percentile(latencies, .99) * 1000}


def batch(server, key, batches, size):
    client = Client(server.port, key)
    client.post("/api/v1/messages/batch", {"messages": [order(i) for i in range(size)]})
    bodies = [{"messages": [order(b * size + i) for i in range(size)]} for b in range(batches)]
    cpu, started = server.cpu_seconds(), time.perf_counter()
    for body in bodies:
        client.post("/api/v1/messages/batch", body)
    elapsed, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
    return {"batch_rate": batches * size / elapsed, "batch_cpu_ms_per_message": cpu / (batches * size) * 1000}


def main(argv=None):
    args = parse_args(argv)
    env, key = prepare(args)
    figures = {}
    if "send" not in args.skip:
        figures.update(send(env, args.sends))
        print(f"send: {figures['send_rate']:.0f} send_message() + commit/s, producer CPU "
              f"{figures['send_cpu_ms_per_event']:.2f} ms per event", flush=True)
    server = Server(env)
    try:
        if "single" not in args.skip:
            figures.update(single(server, key, args.calls))
            print(f"single: {figures['single_rate']:.0f} calls/s, p50 {figures['single_p50_ms']:.1f} ms, "
                  f"p99 {figures['single_p99_ms']:.1f} ms, server CPU {figures['cpu_ms_per_call']:.2f} ms per call",
                  flush=True)
        if "concurrent" not in args.skip:
            figures.update(concurrent(server, key, args.concurrency, max(args.calls // args.concurrency, 50)))
            print(f"concurrent ({args.concurrency} clients): {figures['concurrent_rate']:.0f} calls/s, "
                  f"p50 {figures['concurrent_p50_ms']:.1f} ms, p99 {figures['concurrent_p99_ms']:.1f} ms", flush=True)
        if "batch" not in args.skip:
            figures.update(batch(server, key, args.batches, args.batch_size))
            print(f"batch ({args.batch_size} a call): {figures['batch_rate']:.0f} messages/s, server CPU "
                  f"{figures['batch_cpu_ms_per_message']:.3f} ms per message", flush=True)
    finally:
        server.stop()
    met = []
    if "send_cpu_ms_per_event" in figures:
        ok = figures["send_cpu_ms_per_event"] <= TARGET_SEND_CPU_MS
        met.append(f"send_cpu<={TARGET_SEND_CPU_MS}ms:{'yes' if ok else 'no'}")
    if "cpu_ms_per_call" in figures:
        met.append(f"cpu<={TARGET_CPU_MS}ms:{'yes' if figures['cpu_ms_per_call'] <= TARGET_CPU_MS else 'no'}")
    if "concurrent_rate" in figures:
        ok = (figures["concurrent_rate"] >= TARGET_CONCURRENT_RATE
              and figures["concurrent_p99_ms"] < TARGET_CONCURRENT_P99_MS)
        met.append(f"concurrent>={TARGET_CONCURRENT_RATE}/s,p99<{TARGET_CONCURRENT_P99_MS}ms:{'yes' if ok else 'no'}")
    if "batch_rate" in figures:
        met.append(f"batch>={TARGET_BATCH_RATE}/s:{'yes' if figures['batch_rate'] >= TARGET_BATCH_RATE else 'no'}")
    print("targets: " + " ".join(met))
    print(" ".join(f"{k}={v:.2f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
