"""Inbound receiving benchmark: signed Shopify webhooks at a fixed rate, then a storm of one duplicated event.

    python bench/inbound.py [--rate 200] [--seconds 20] [--storm 1000] [--storm-connections 50]
                            [--database-url ...] [--redis-url ...]

The Procfile's web command (gunicorn, its default workers and threads) serves POST /inbound/<name> on a
freshly migrated PostgreSQL database; a shopify source is created through POST /api/v1/inbound-sources.
A separate load process (this script with --load, asyncio with kept-alive connections, every request signed
before the clock starts) sends:

1. rate: --rate signed ~2 KB `orders/fulfilled` webhooks a second for --seconds, each with its own
   X-Shopify-Webhook-Id. Open loop: request i is due at start + i / rate and is sent then whether or not
   earlier ones were answered (a new connection is opened when none is idle), and its latency runs from
   that due time to the end of the answer, so a stalled server shows up as latency instead of a slower
   send rate. Figures: p50/p95/p99/max, errors (anything but 200 "accepted", or a failed connection), how
   late the sender itself was, the server's CPU per request (user + system time of the gunicorn master and
   workers from /proc, before and after, divided by the requests) and the load process's own CPU.
2. storm: --storm identical deliveries of one event (same body, same signature, same webhook id) over
   --storm-connections connections at once. Figures: the answers (one "accepted", the rest "duplicate"),
   the events stored with that webhook id (must be 1), its duplicate_count (must be storm - 1), and its
   status and processing attempts (no worker runs here, so it stays `received` and unprocessed: what
   counts is that it was stored, and so handed to processing, once).

No worker runs. The load average, the share of the CPUs other processes took and the machine's busy and
steal shares (/proc/stat) are printed beside every phase: on this 2-core machine any other work
(a test suite, another benchmark) moves every figure. The database named in --database-url is dropped
and recreated (its name must contain "bench"); the Redis db is flushed.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from common import Server, add_service_options, check_service_options  # noqa: E402  bench/common.py

#: Target from the issue: p99 under 20 ms at 200 requests/s for a 2 KB Shopify webhook.
TARGET_RATE, TARGET_P99_MS = 200, 20
SOURCE, SECRET, TOPIC = "shop", "shpss_bench_client_secret_0123456789abcdef", "orders/fulfilled"
#: The shop the webhooks come from: Shopify's deduplication key is "<shop domain>/<webhook id>".
SHOP = "bench-shop.myshopify.com"
#: A connection idle longer than this is not reused (gunicorn closes kept-alive connections after 2 s).
IDLE_REUSE_SECONDS = 1.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=TARGET_RATE, help="requests a second in the rate phase")
    p.add_argument("--seconds", type=float, default=20, help="length of the rate phase")
    p.add_argument("--warmup", type=int, default=200, help="requests sent before the measured ones")
    p.add_argument("--storm", type=int, default=1000, help="identical deliveries in the storm")
    p.add_argument("--storm-connections", type=int, default=50)
    p.add_argument("--skip", default="", help="comma-separated phases to skip: rate,storm")
    add_service_options(p, "hk_bench", 9)
    p.add_argument("--load", help=argparse.SUPPRESS)  # internal: run as the load process with this JSON spec
    args = p.parse_args(argv)
    if args.load:
        return args
    check_service_options(args)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    return args


# --- what a shop sends ----------------------------------------------------------------------------------------

def fulfilled_order(i, size=2048):
    """A Shopify orders/fulfilled body of about size bytes, compact JSON as Shopify sends it."""
    number = 1001 + i
    order = {
        "id": 5_500_000_000_000 + i, "admin_graphql_api_id": f"gid://shopify/Order/{5_500_000_000_000 + i}",
        "name": f"#{number}", "order_number": number, "email": f"customer{i % 997}@example.com",
        "created_at": "2026-11-30T23:10:04+01:00", "updated_at": "2026-12-01T00:02:51+01:00",
        "processed_at": "2026-11-30T23:10:04+01:00", "currency": "EUR", "presentment_currency": "EUR",
        "financial_status": "paid", "fulfillment_status": "fulfilled", "confirmed": True, "test": False,
        "subtotal_price": "59.90", "total_tax": "11.38", "total_price": "64.80", "total_discounts": "0.00",
        "tags": "warranty, QR", "note_attributes": [{"name": "qr_code", "value": f"QR{i:08d}"}],
        "customer": {"id": 7_100_000_000 + i % 997, "email": f"customer{i % 997}@example.com",
                     "first_name": "Anna", "last_name": "Bauer", "verified_email": True},
        "shipping_address": {"first_name": "Anna", "last_name": "Bauer", "address1": "Hauptstrasse 12",
                             "city": "Wien", "zip": "1010", "country_code": "AT", "phone": "+43 1 2345678"},
        "line_items": [{"id": 14_000_000_000 + 2 * i + n, "sku": f"LAMP-{n:03d}", "title": "Desk lamp",
                        "variant_id": 44_000_000_000 + n, "quantity": 1, "price": "29.95",
                        "fulfillment_status": "fulfilled", "requires_shipping": True} for n in range(2)],
        "fulfillments": [{"id": 4_900_000_000 + i, "status": "success", "tracking_company": "DHL",
                          "tracking_number": f"JJD00{i:012d}", "shipment_status": None,
                          "tracking_url": f"https://www.dhl.com/track?id=JJD00{i:012d}",
                          "created_at": "2026-12-01T00:02:50+01:00"}],
        "note": "",
    }
    body = json.dumps(order, separators=(",", ":")).encode()
    order["note"] = ("Leave at the door. " * size)[:max(0, size - len(body))]  # ASCII: one byte a character
    return json.dumps(order, separators=(",", ":")).encode()


def shopify_request(port, body, webhook_id, event_id):
    """The raw HTTP/1.1 request Shopify would send: its headers, the base64 HMAC-SHA256 of the raw body."""
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"Host": f"127.0.0.1:{port}", "User-Agent": "Shopify-Captain-Hook", "Accept": "*/*",
               "Content-Type": "application/json", "Content-Length": str(len(body)),
               "X-Shopify-Topic": TOPIC, "X-Shopify-Hmac-Sha256": digest,
               "X-Shopify-Shop-Domain": SHOP, "X-Shopify-API-Version": "2026-10",
               "X-Shopify-Webhook-Id": webhook_id, "X-Shopify-Event-Id": event_id,
               "X-Shopify-Triggered-At": "2026-11-30T23:02:51.123456789Z"}
    head = f"POST /inbound/{SOURCE} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + body


# --- the load process ------------------------------------------------------------------------------------------

class Connection:
    """One kept-alive HTTP/1.1 connection: send raw request bytes, read one answer (status, body)."""

    def __init__(self, reader, writer):
        self.reader, self.writer, self.idle_since = reader, writer, time.monotonic()

    @classmethod
    async def open(cls, port):
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def exchange(self, raw):
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
        fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
        body = await self.reader.readexactly(int(fields.get("content-length", "0")))
        self.idle_since = time.monotonic()
        return status, body, fields.get("connection", "").lower() == "close"

    def close(self):
        self.writer.close()


class Pool:
    """Idle connections, most recently used first; a new one when none is idle (never waits for one)."""

    def __init__(self, port):
        self.port, self.idle, self.opened = port, [], 0

    async def send(self, raw):
        while self.idle:
            connection = self.idle.pop()
            if time.monotonic() - connection.idle_since < IDLE_REUSE_SECONDS:
                break
            connection.close()
        else:
            connection = await Connection.open(self.port)
            self.opened += 1
        try:
            status, body, close = await connection.exchange(raw)
        except BaseException:
            connection.close()
            raise
        if close:
            connection.close()
        else:
            self.idle.append(connection)
        return status, body

    def close(self):
        for connection in self.idle:
            connection.close()


async def open_loop(port, requests, rate, warmup):
    """Send each request at its due time; return (latencies in s, errors, max send lateness in s, connections)."""
    pool = Pool(port)
    for raw in warmup:  # one after another: connections and statement caches warm, nothing measured
        await pool.send(raw)
    latencies, errors, lateness = [], [], 0.0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(due, raw):
        try:
            status, body = await pool.send(raw)
            ok = status == 200 and json.loads(body).get("status") == "accepted"
            if not ok:
                errors.append(f"{status} {body[:120]!r}")
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors.append(repr(exc))
        latencies.append(loop.time() - due)

    tasks = []
    for i, raw in enumerate(requests):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lateness = max(lateness, loop.time() - due)
        tasks.append(asyncio.ensure_future(one(due, raw)))
    await asyncio.gather(*tasks)
    pool.close()
    return latencies, errors, lateness, pool.opened


async def storm(port, raw, count, connections):
    """Send raw count times over connections connections at once; return ({answer: n}, errors, seconds)."""
    answers, errors, remaining = {}, [], [count]
    opened = [await Connection.open(port) for _ in range(connections)]
    gate = asyncio.Event()

    async def run(connection):
        await gate.wait()
        while remaining[0] > 0:
            remaining[0] -= 1
            try:
                status, body, _ = await connection.exchange(raw)
                key = f"{status} {json.loads(body).get('status') or json.loads(body).get('reason')}"
                answers[key] = answers.get(key, 0) + 1
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(repr(exc))
                connection.close()
                connection = await Connection.open(port)
        connection.close()

    tasks = [asyncio.ensure_future(run(c)) for c in opened]
    started = time.perf_counter()
    gate.set()
    await asyncio.gather(*tasks)
    return answers, errors, time.perf_counter() - started


def load_main(spec):
    """The load process: build and sign every request first, then run the phase; print its figures as JSON."""
    port = spec["port"]
    if spec["phase"] == "rate":
        total = int(spec["rate"] * spec["seconds"])
        build = [shopify_request(port, fulfilled_order(i), str(uuid.uuid4()), str(9_000_000_000 + i))
                 for i in range(spec["warmup"] + total)]
        warmup, requests = build[:spec["warmup"]], build[spec["warmup"]:]
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        latencies, errors, lateness, opened = asyncio.run(open_loop(port, requests, spec["rate"], warmup))
        after = resource.getrusage(resource.RUSAGE_SELF)
        used = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
        result = {"latencies": latencies, "errors": errors, "lateness": lateness, "connections": opened,
                  "body_bytes": len(fulfilled_order(0)), "load_cpu_ms": used * 1000 / max(len(requests), 1)}
    else:
        raw = shopify_request(port, fulfilled_order(424242), spec["webhook_id"], "9999999999")
        answers, errors, seconds = asyncio.run(storm(port, raw, spec["count"], spec["connections"]))
        result = {"answers": answers, "errors": errors, "seconds": seconds}
    json.dump(result, sys.stdout)


def run_load(spec):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--load", json.dumps(spec)],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


# --- the benchmark ---------------------------------------------------------------------------------------------

def prepare(args):
    """Fresh database and Redis db, migrations and an API key; return (env, key)."""
    import psycopg
    import redis

    from app.config import TEST_ENCRYPTION_KEY
    from tests.support.processes import child_env

    server, dbname = args.database_url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    redis.Redis.from_url(args.redis_url).flushdb()
    env = child_env(DATABASE_URL=args.database_url, BROKER_URL=args.redis_url, SECRET_KEY="bench-secret-key",
                    SECRETS_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY)
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    out = subprocess.run([*flask, "api-keys", "create", "bench"], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return env, out.strip().splitlines()[-1]


def create_source(port, key):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/api/v1/inbound-sources",
                       json.dumps({"name": SOURCE, "provider": "shopify", "secret": SECRET}),
                       {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    if response.status != 201:
        raise RuntimeError(f"creating the source answered {response.status}: {data[:300]!r}")
    return json.loads(data)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def cpu_times():
    """The machine's (busy, steal, total) CPU ticks so far, from /proc/stat."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return sum(fields) - fields[3] - fields[4], fields[7], sum(fields)


def machine_share(before):
    """Return 'busy x %, steal y %' of the machine's CPU since the cpu_times() given."""
    now = cpu_times()
    total = max(now[2] - before[2], 1)
    return f"machine busy {(now[0] - before[0]) / total:.0%}, steal {(now[1] - before[1]) / total:.0%}"


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def rate_phase(server, others, args):
    print(f"rate: {args.rate:.0f} signed Shopify {TOPIC} webhooks/s for {args.seconds:.0f} s, open loop "
          f"(load average before {load_average()})", flush=True)
    others.sample()
    cpu, postgres, mark, machine = server.cpu_seconds(), others.postgres_seconds, others.mark(), cpu_times()
    result = run_load({"phase": "rate", "port": server.port, "rate": args.rate, "seconds": args.seconds,
                       "warmup": args.warmup})
    others.sample()
    cpu, postgres, other_share = server.cpu_seconds() - cpu, others.postgres_seconds - postgres, others.share(mark)
    latencies = [x * 1000 for x in result["latencies"]]
    sent = len(latencies) + args.warmup
    figures = {"p50_ms": percentile(latencies, .50), "p95_ms": percentile(latencies, .95),
               "p99_ms": percentile(latencies, .99), "max_ms": max(latencies), "errors": len(result["errors"]),
               "server_cpu_ms": cpu * 1000 / sent, "postgres_cpu_ms": postgres * 1000 / sent,
               "load_cpu_ms": result["load_cpu_ms"], "other_cpu": other_share}
    print(f"  {len(latencies)} requests of {result['body_bytes']} bytes (+{args.warmup} warm-up, one at a time): "
          f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
          f"max {figures['max_ms']:.1f} ms; errors {figures['errors']}", flush=True)
    print(f"  CPU per request (warm-up included): server {figures['server_cpu_ms']:.2f} ms (gunicorn master + "
          f"workers), PostgreSQL {figures['postgres_cpu_ms']:.2f} ms (our database's backends), load process "
          f"{figures['load_cpu_ms']:.2f} ms; sender at most {result['lateness'] * 1000:.1f} ms late; "
          f"{result['connections']} connections opened", flush=True)
    print(f"  other processes used {other_share:.0%} of the machine's CPU meanwhile ({machine_share(machine)}); "
          f"load average after {load_average()}", flush=True)
    for error in result["errors"][:5]:
        print(f"  error: {error}", flush=True)
    return figures


def storm_phase(server, others, args):
    import psycopg

    webhook_id = f"storm-{uuid.uuid4()}"
    print(f"storm: {args.storm} identical deliveries of one event over {args.storm_connections} connections "
          f"(load average before {load_average()})", flush=True)
    others.sample()
    mark, machine = others.mark(), cpu_times()
    result = run_load({"phase": "storm", "port": server.port, "webhook_id": webhook_id, "count": args.storm,
                       "connections": args.storm_connections})
    others.sample()
    other_share = others.share(mark)
    with psycopg.connect(args.database_url) as conn:
        rows = conn.execute("SELECT e.duplicate_count, e.status, e.attempts FROM inbound_events e "
                            "JOIN inbound_sources s ON s.id = e.source_id "
                            "WHERE s.name = %s AND e.provider_event_id = %s",
                            (SOURCE, f"{SHOP}/{webhook_id}")).fetchall()
    duplicates = rows[0][0] if rows else None
    figures = {"storm_stored": len(rows), "storm_duplicate_count": duplicates,
               "storm_status": rows[0][1] if rows else None, "storm_attempts": rows[0][2] if rows else None,
               "storm_errors": len(result["errors"]), "storm_rate": args.storm / result["seconds"],
               "storm_other_cpu": other_share}
    answers = ", ".join(f"{n} x {k}" for k, n in sorted(result["answers"].items()))
    print(f"  answers: {answers}; errors {len(result['errors'])}; {figures['storm_rate']:.0f} requests/s", flush=True)
    print(f"  events stored: {len(rows)} (must be 1); duplicate_count {duplicates} (must be {args.storm - 1}); "
          f"status {figures['storm_status']}, processing attempts {figures['storm_attempts']} (no worker runs: "
          f"stored once, so handed to processing once)", flush=True)
    print(f"  other processes used {other_share:.0%} of the machine's CPU meanwhile ({machine_share(machine)}); "
          f"load average after {load_average()}", flush=True)
    for error in result["errors"][:5]:
        print(f"  error: {error}", flush=True)
    return figures


def main(argv=None):
    args = parse_args(argv)
    if args.load:
        return load_main(json.loads(args.load))
    from deliveries import OtherLoad  # bench/deliveries.py

    print(f"machine: {os.cpu_count()} CPUs, load average {load_average()}", flush=True)
    env, key = prepare(args)
    server = Server(env)
    others = OtherLoad(urlsplit(args.database_url).path.lstrip("/"))
    figures = {}
    try:
        create_source(server.port, key)
        others.start()
        if "rate" not in args.skip:
            figures.update(rate_phase(server, others, args))
        if "storm" not in args.skip:
            figures.update(storm_phase(server, others, args))
    finally:
        others.stop()
        server.stop()
    met = []
    if "p99_ms" in figures:
        ok = figures["p99_ms"] < TARGET_P99_MS and figures["errors"] == 0 and args.rate >= TARGET_RATE
        met.append(f"p99<{TARGET_P99_MS}ms@{TARGET_RATE}/s:{'yes' if ok else 'NO'}")
    if "storm_stored" in figures:
        ok = figures["storm_stored"] == 1 and figures["storm_duplicate_count"] == args.storm - 1
        met.append(f"storm_stored_once:{'yes' if ok else 'NO'}")
    print("targets: " + " ".join(met))
    print(" ".join(f"{k}={v:.0%}" if k.endswith("other_cpu") else f"{k}={v:.2f}" if isinstance(v, float)
                   else f"{k}={v}" for k, v in figures.items()) + f" load={load_average().replace(' ', '/')}")


if __name__ == "__main__":
    main()
