"""A failing handler's traceback is kept with its processing attempt: bounded, with the source's secrets masked."""

from sqlalchemy import select

import tasks.inbound  # noqa: F401  hands committed events to the broker
from app.errors import InvalidInput
from app.extensions import db
from app.inbound.processing import process_event
from app.models import InboundAttempt, InboundStatus
from tests.inbound import signing
from tests.inbound.conftest import SHOPIFY_SECRET
from tests.inbound.sources_helpers import BODY, new_event, new_source

MASK = "••••"
ORDER = {"id": 5123, "order_number": 1005, "line_items": [{"sku": "QR-77"}]}


def attempt_rows(app, event_id):
    with app.app_context():
        rows = db.session.scalars(select(InboundAttempt).where(InboundAttempt.event_id == event_id)).all()
        db.session.expunge_all()
        return rows


def test_a_failing_handler_run_by_a_worker_keeps_its_traceback_on_the_attempt(app, client, make_source, stored,
                                                                               handlers, broker, worker):
    app.config["INBOUND_MAX_ATTEMPTS"] = 1

    def lookup_sku(payload):
        raise LookupError(f"no sku {payload['line_items'][0]['sku']} (asked with {SHOPIFY_SECRET})")

    @handlers(topic="orders/create")
    def register_warranty(event, payload):
        lookup_sku(payload)

    make_source("shop")
    body = signing.body_of(ORDER)
    assert client.post("/inbound/shop", data=body, headers=signing.shopify(SHOPIFY_SECRET, body)).status_code == 200
    broker.join("inbound")
    worker.join()

    (event,) = stored.events()
    (attempt,) = attempt_rows(app, event.id)
    assert attempt.outcome is InboundStatus.FAILED and attempt.error.startswith("LookupError: no sku QR-77")
    trace = attempt.traceback
    assert trace.startswith("Traceback (most recent call last):")
    assert "in register_warranty\n    lookup_sku(payload)" in trace and "in lookup_sku\n" in trace
    assert trace.rstrip().endswith(f"LookupError: no sku QR-77 (asked with {MASK})")
    assert SHOPIFY_SECRET not in trace and SHOPIFY_SECRET not in attempt.error


def test_a_long_traceback_keeps_its_last_8_kb_and_says_what_was_cut(app, handlers):
    @handlers()
    def explode(event, payload):
        raise ValueError("é" * 20_000)  # 40,000 bytes of UTF-8

    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    with app.app_context():
        assert process_event(event_id, "received").status is InboundStatus.FAILED
    (attempt,) = attempt_rows(app, event_id)
    assert len(attempt.traceback.encode("utf-8")) <= 8192
    assert attempt.traceback.startswith("[first ") and " bytes cut]\n" in attempt.traceback
    assert attempt.traceback.endswith("ééé\n")


def test_a_deliberate_final_refusal_keeps_its_message_and_no_traceback(app, handlers):
    @handlers()
    def refuse(event, payload):
        raise InvalidInput("order 1005 was cancelled: nothing to register")

    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    with app.app_context():
        process_event(event_id, "received")
    (attempt,) = attempt_rows(app, event_id)
    assert (attempt.error, attempt.traceback) == ("order 1005 was cancelled: nothing to register", None)
