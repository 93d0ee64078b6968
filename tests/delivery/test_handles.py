"""Search handles: what a message is found by, stored when it is created, found whatever the case or "#"."""

from sqlalchemy import select

from app.delivery.queries import DeliveryFilter, list_deliveries
from app.extensions import db
from app.models import MessageHandle
from app.search import normalise, payload_values, variants
from tests.support.factories import send


def test_variants_are_the_forms_people_type():
    assert variants("#1005") == {"#1005", "1005"}
    assert variants("gid://shopify/Order/5123") == {"gid://shopify/order/5123", "5123"}
    assert variants("shopify:5000000002") == {"shopify:5000000002", "5000000002"}
    assert variants("QR-ABCD") == {"qr-abcd"}
    assert variants(None) == variants("  ") == variants({"a": 1}) == set()
    assert normalise("  #ORDER-1002 ") == "order-1002"


def test_payload_values_follow_dotted_paths():
    payload = {"order": {"id": 77, "lines": [1]}, "data": {"qrCode": "QR9"}, "qr_code": None}
    assert payload_values(payload, ["order.id", "data.qrCode", "qr_code", "missing.path", "order.id.deeper"]) == [
        77, "QR9"]


def test_send_message_stores_the_handles(app, make_endpoint):
    make_endpoint()
    message_id, _ = send(app, payload={"data": {"qrCode": "ABCD1234", "shopifyOrderId": "gid://shopify/Order/98"}},
                         reference="#1005", tags=["Shop-Tag"], idempotency_key="Order-1005")
    with app.app_context():
        handles = set(db.session.scalars(select(MessageHandle.handle).where(MessageHandle.message_id == message_id)))
    assert handles == {"#1005", "1005", "shop-tag", "order-1005", "abcd1234", "gid://shopify/order/98", "98"}


def test_search_finds_a_message_by_any_handle_in_any_case(app, make_endpoint):
    make_endpoint()
    _, (wanted,) = send(app, payload={"data": {"qrCode": "ABCD1234", "shopifyOrderId": "gid://shopify/Order/98765"}},
                        reference="#1005", idempotency_key="order-1002")
    send(app, reference="#2005", payload={"data": {"qrCode": "ZZZZ"}})

    def found(term):
        with app.app_context():
            return [d.id for d in list_deliveries(DeliveryFilter(q=term))[0]]

    for term in ("1005", "#1005", "  #1005 ", "ORDER-1002", "Order-1002", "abcd1234", "98765", "gid://shopify/order/9"):
        assert found(term) == [wanted], term
    assert found("nothing") == []
