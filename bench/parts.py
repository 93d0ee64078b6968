"""Where a lone delivery's CPU goes, part by part, beside the bare reference's parts.

    python bench/parts.py [--deliveries 2000] [--warmup 300] [--rate 0] [--database-url ...] [--redis-url ...]

One endpoint on the local receiver (bench/receiver.py, its own process), PostgreSQL. Each delivery is alone, as
at a steady rate: send_message() + commit, then pipeline.drain() as a woken worker slot runs it, in this thread (no
Dramatiq, no NOTIFY listener, no wake-up). The CPU of this thread (time.thread_time) is counted for each part:

- produce: send_message() + commit (the producer's part, not the worker's);
- claim: the fair claim (fair.claim_next: its statement, the request's body and signature);
- send: the POST (pipeline.send: requests, urllib3, http.client and the response);
- record: recording the attempt (record.record_and_start: its statement and commit, the log line, the metrics);
- drain's own: the loop around them.

Beside them, the bare reference's round (bench/deliveries.py's ceiling, one thread here): a signed `requests` POST
of the same ~1 KB body ("send"), then the INSERT of an attempt + UPDATE of a delivery + COMMIT on copies of our
tables ("record"). The two run in alternating blocks of BLOCK rounds, so that the machine's drift falls on both.

--rate paces the rounds (a sleep before each): at a steady rate a round finds the CPU's caches cold, as a worker
does at that rate, and costs more than back to back, the reference's as much as ours. What a worker spends per
delivery at a steady rate (bench/deliveries.py, steady) minus this "worker's part" at the same rate is what the worker
around the pipeline costs: Dramatiq's message handling, the NOTIFY listener, the wake-up, its idle threads.
The database named in --database-url is dropped and recreated, so its name must contain "bench".
"""

import argparse
import base64
import hashlib
import hmac
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import receiver  # noqa: E402  bench/receiver.py, found through the path set just above
from common import add_service_options, check_service_options, fresh_database  # noqa: E402  bench/common.py
from deliveries import (  # noqa: E402  bench/deliveries.py: the reference's statements and body
    CEILING_INSERT,
    CEILING_UPDATE,
    ceiling_tables,
    make_payload,
)

from app.config import TEST_ENCRYPTION_KEY  # noqa: E402  reads nothing at import
from tests.support.processes import child_env  # noqa: E402

PARTS = ("claim", "send", "record")
#: Ours and the reference's alternate in blocks of this many rounds.
BLOCK = 250
#: What a worker slot spends on a delivery: the claim, the send, the record and the loop around them.
WORKER = "worker's part"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deliveries", type=int, default=2000, help="lone deliveries measured")
    p.add_argument("--warmup", type=int, default=300, help="lone deliveries first, not measured (caches, plans)")
    p.add_argument("--rate", type=float, default=0, help="deliveries per second (0: one after another); at a steady "
                   "rate the CPU's caches have cooled between two, as in a worker at that rate")
    add_service_options(p, "hookyard_bench_parts", 10)
    args = p.parse_args(argv)
    check_service_options(args, flushes_redis=False)  # Redis is only the broker named to the app here
    return args


def prepare(args):
    """A fresh, migrated database with one endpoint on url; this process's environment set for the app."""
    env = child_env(DATABASE_URL=args.database_url, BROKER_URL=args.redis_url, SECRET_KEY="bench-secret-key",
                    SECRETS_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY, WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
                    WEBHOOK_SWEEP_INTERVAL_SECONDS="0")
    fresh_database(args.database_url, env)
    os.environ.update(env)


class Parts:
    """CPU of this thread per part of the path: wraps a module's function so that its calls are counted."""

    def __init__(self):
        self.seconds = dict.fromkeys(PARTS, 0.0)

    def count(self, module, name, part):
        function = getattr(module, name)

        def counted(*args, **kwargs):
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[part] += time.thread_time() - started

        setattr(module, name, counted)


class Pipeline:
    """Lone deliveries through the pipeline in this thread, in the app's context (entered here, left by close)."""

    def __init__(self, url):
        from app import create_app
        from app.delivery.attempt import fair, pipeline, record
        from app.delivery.endpoints.service import create_endpoint
        from app.extensions import db

        # Each attempt's log line is written, as a worker writes it, but not onto the terminal.
        logging.getLogger().addHandler(logging.StreamHandler(open(os.devnull, "w")))
        self.parts, self.produce, self.drain = Parts(), 0.0, 0.0
        self.parts.count(fair, "claim_next", "claim")
        self.parts.count(pipeline, "send", "send")
        self.parts.count(record, "record_and_start", "record")
        self.context = create_app().app_context()
        self.context.push()
        create_endpoint(url, name="bench receiver")
        db.session.commit()
        self.payload = make_payload(0)

    def one(self):
        from app.delivery.attempt import pipeline
        from app.delivery.messages import send_message
        from app.extensions import db

        started = time.thread_time()
        send_message("order.created", self.payload)
        db.session.commit()
        produced = time.thread_time()
        results = pipeline.drain((), limit=20)
        if len(results) != 1 or getattr(results[0], "response_status", None) != 200:
            raise SystemExit(f"a lone delivery was not sent once and recorded: {results!r}")
        self.produce, self.drain = self.produce + produced - started, self.drain + time.thread_time() - produced

    def reset(self):
        self.parts.seconds, self.produce, self.drain = dict.fromkeys(PARTS, 0.0), 0.0, 0.0

    def figures(self, count):
        """ms of CPU per delivery, by part."""
        per = {part: seconds / count * 1000 for part, seconds in self.parts.seconds.items()}
        per["drain's own"] = self.drain / count * 1000 - sum(per.values())
        per[WORKER] = self.drain / count * 1000
        per["produce"] = self.produce / count * 1000
        return per

    def close(self):
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
        self.context.pop()


class Reference:
    """The bare reference's round, one thread: a signed requests POST; INSERT + UPDATE + COMMIT."""

    def __init__(self, dsn, url, count):
        import requests

        ceiling_tables(dsn, count)
        self.session, self.conn, self.key = requests.Session(), psycopg.connect(dsn), os.urandom(32)
        self.url, self.body, self.n = url, json.dumps(make_payload(0), separators=(",", ":")).encode(), 0
        self.post = self.write = 0.0

    def one(self):
        from psycopg.types.json import Json

        started, n = time.thread_time(), self.n
        msg_id, stamp = f"msg_ceiling_{n}", str(int(time.time()))
        signature = base64.b64encode(hmac.new(self.key, f"{msg_id}.{stamp}.".encode() + self.body,
                                              hashlib.sha256).digest())
        headers = {"User-Agent": "Hookyard-Webhooks/1.0", "Content-Type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": stamp, "webhook-signature": "v1," + signature.decode()}
        began, t0 = datetime.now(UTC), time.monotonic()
        response = self.session.post(self.url, data=self.body, headers=headers, timeout=10)
        duration_ms = int((time.monotonic() - t0) * 1000)
        posted = time.thread_time()
        if response.status_code != 200:
            raise SystemExit(f"the reference's POST was answered {response.status_code}")
        self.conn.execute(CEILING_INSERT, (f"dlv_ceiling_{n}", began, duration_ms, self.url, Json(headers),
                                           response.status_code, response.text))
        self.conn.execute(CEILING_UPDATE, (began, response.status_code, f"dlv_ceiling_{n}"))
        self.conn.commit()
        self.n, self.post, self.write = n + 1, self.post + posted - started, self.write + time.thread_time() - posted

    def reset(self):
        self.post = self.write = 0.0

    def figures(self, count):
        return {"send": self.post / count * 1000, "record": self.write / count * 1000}

    def close(self):
        self.conn.close()


def run(args, url):
    """Both, in alternating blocks (the machine's drift falls on both alike); their figures."""
    ours, bare = Pipeline(url), Reference(args.database_url, url, args.warmup + args.deliveries)
    pause = 1 / args.rate if args.rate else 0
    try:
        for side in (ours, bare):
            for _ in range(args.warmup):
                side.one()
            side.reset()
        blocks = [min(BLOCK, args.deliveries - done) for done in range(0, args.deliveries, BLOCK)]
        for size in blocks:
            for side in (ours, bare):
                for _ in range(size):
                    if pause:
                        time.sleep(pause)  # a steady rate: a round takes far less than the pause
                    side.one()
        return ours.figures(args.deliveries), bare.figures(args.deliveries)
    finally:
        ours.close()
        bare.close()


def main(argv=None):
    args = parse_args(argv)
    proc, base = receiver.start(port=0)
    try:
        prepare(args)
        ours, bare = run(args, base + "hook")
    finally:
        proc.terminate()
    bare[WORKER] = bare["send"] + bare["record"]
    pace = f"at {args.rate:g}/s" if args.rate else "back to back"
    print(f"{args.deliveries} lone deliveries {pace}, ms of CPU per delivery (this thread): ours, the bare reference's")
    for part in (*PARTS, "drain's own", WORKER):
        beside = f"   {bare[part]:.3f}" if part in bare else ""
        print(f"  {part:<14} {ours[part]:.3f}{beside}")
    print(f"  {'produce':<14} {ours['produce']:.3f}   (send_message() + commit)")
    print(f"ours / the reference's: {ours[WORKER] / bare[WORKER]:.2f}")
    print(" ".join(f"{name(key)}={value:.3f}" for key, value in ours.items())
          + " " + " ".join(f"reference_{name(key)}={value:.3f}" for key, value in bare.items()))


def name(part):
    """A part's name as one word, for the last line."""
    return part.replace("'s", "").replace(" ", "_")

if __name__ == "__main__":
    main()
