"""An inbound event whose processing fails for good is announced to the operational endpoints (inbound.failed)."""

import json

from sqlalchemy import select

from app.audit import SYSTEM
from app.delivery.endpoints.operational_endpoints import create_operational_endpoint
from app.extensions import db
from app.inbound.processing import process_event
from app.models import Delivery, InboundStatus, Message
from tests.inbound.sources_helpers import BODY, new_event, new_source


def operational_events(app, endpoint_id):
    with app.app_context():
        return [json.loads(m.payload) for m in db.session.scalars(
            select(Message).join(Delivery, Delivery.message_id == Message.id)
            .where(Delivery.endpoint_id == endpoint_id))]


def test_a_final_processing_failure_writes_inbound_failed(app, handlers, receiver):
    app.config["INBOUND_MAX_ATTEMPTS"] = 2

    @handlers()
    def explode(event, payload):
        raise LookupError("no sku QR-77")

    with app.app_context():
        ops, _ = create_operational_endpoint(receiver.url("/ops"), actor=SYSTEM, event_types=["inbound.failed"])
        ops_id = ops.id
    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    with app.app_context():
        assert process_event(event_id, "received").next_attempt_at is not None  # will retry: nothing announced
    assert operational_events(app, ops_id) == []
    with app.app_context():
        process_event(event_id, "replay")  # a replay is one final attempt
    (event,) = operational_events(app, ops_id)
    assert event["type"] == "inbound.failed"
    failed = event["data"]["inbound_event"]
    assert failed["id"] == event_id and failed["source"]["id"] == source_id
    assert failed["last_error"].startswith("LookupError: no sku QR-77") and failed["attempts"] == 2
