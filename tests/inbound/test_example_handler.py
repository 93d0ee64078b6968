import importlib
import json
import sys

import pytest
from sqlalchemy import select

from app import create_app
from app.config import TestConfig as Settings
from app.extensions import db
from app.inbound import actions
from app.inbound.handlers import INBOUND_HANDLERS, handlers_for, remove_handler
from app.inbound.processing import process_event
from app.models import InboundStatus, Message
from tests.inbound import signing
from tests.inbound.sources_helpers import ADMIN, new_event, new_source

MODULE = "docs.examples.shopify_product_sold"
ORDER = {"id": 450789469, "order_number": 1001, "email": "buyer@example.com", "currency": "EUR",
         "line_items": [{"id": 1, "sku": "QR-77", "product_id": 632910392, "quantity": 2, "price": "199.00"},
                        {"id": 2, "sku": "CASE-1", "product_id": 921728736, "quantity": 1, "price": "19.00"}]}


def unregister_example():
    """Remove every handler the example module registered, and forget the module."""
    for functions in INBOUND_HANDLERS.values():
        for function in [f for f in functions if f.__module__ == MODULE]:
            remove_handler(function)
    sys.modules.pop(MODULE, None)


@pytest.fixture
def example():
    """The example handler, registered for this test only."""
    unregister_example()
    yield importlib.import_module(MODULE)
    unregister_example()


def test_the_example_is_off_by_default():
    assert not any(f.__module__ == MODULE for functions in INBOUND_HANDLERS.values() for f in functions)
    assert Settings().INBOUND_HANDLER_MODULES == []


def test_the_example_is_turned_on_by_configuration(app):
    unregister_example()
    try:
        create_app(Settings(environ={"INBOUND_HANDLER_MODULES": MODULE}))
        assert [f.__name__ for f in handlers_for("shopify", "orders/fulfilled")] == ["send_product_sold"]
    finally:
        unregister_example()


def test_a_fulfilled_order_sells_each_line_item_once(app, example, make_endpoint):
    make_endpoint()
    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=signing.body_of(ORDER))
    with app.app_context():
        assert process_event(event_id, "received").status is InboundStatus.PROCESSED
        actions.replay_event(event_id, ADMIN)
        assert process_event(event_id, "replay").status is InboundStatus.PROCESSED
        messages = db.session.scalars(select(Message).order_by(Message.idempotency_key)).all()
        sold = [(m.event_type, json.loads(m.payload)["sku"], json.loads(m.payload)["quantity"], m.reference)
                for m in messages]
        assert sold == [
            ("product.sold", "QR-77", 2, "1001"), ("product.sold", "CASE-1", 1, "1001")]
        assert all(len(m.deliveries) == 1 for m in messages)


def test_an_event_without_an_order_fails_for_good(app, example):
    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=b'{"note": "no order"}')
    with app.app_context():
        result = process_event(event_id, "received")
    assert (result.status, result.next_attempt_at) == (InboundStatus.FAILED, None)
