"""Inbound JSON nested deeper than outbound payloads may be (64 levels) is refused and sampled like any other
refusal; a deep body stored before that still renders on the staff pages."""

import pytest

from app.delivery.message_rules import MAX_DEPTH as MAX_JSON_DEPTH  # the outbound limit, inbound too
from app.extensions import db
from app.models import InboundEvent
from tests.inbound import signing
from tests.inbound.conftest import SHOPIFY_SECRET


def nested(levels):
    return b'{"a":' * (levels - 1) + b"[]" + b"}" * (levels - 1)


def send(client, body, webhook_id="wh-deep"):
    return client.post("/inbound/shop", data=body, headers=signing.shopify(SHOPIFY_SECRET, body, webhook_id=webhook_id))


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 100_000])
def test_a_signed_json_body_nested_too_deep_is_refused_and_sampled(client, make_source, stored, levels):
    make_source("shop")

    answer = send(client, nested(levels))

    assert answer.status_code == 400
    assert answer.json == {"error": f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels", "reason": "too_deep"}
    assert stored.events() == []
    (rejection,) = stored.rejections()
    assert (rejection.source_name, rejection.reason, rejection.body_bytes) == ("shop", "too_deep", len(nested(levels)))
    assert stored.count("shop", "too_deep") == 1


def test_a_json_body_at_the_depth_limit_is_accepted(client, make_source, stored):
    make_source("shop")
    answer = send(client, nested(MAX_JSON_DEPTH))
    assert answer.status_code == 200 and answer.json["status"] == "accepted"
    assert len(stored.events()) == 1


@pytest.mark.parametrize("levels", [900, 100_000])
def test_a_deep_body_stored_earlier_renders_on_the_event_page_and_in_the_api(app, client, make_source, staff, auth,
                                                                             levels):
    source = make_source("shop")
    body = nested(levels)
    with app.app_context():
        event = InboundEvent(source_id=source.id, provider_event_id="deep", body=body, body_bytes=len(body),
                             headers={})
        db.session.add(event)
        db.session.commit()
        event_id = event.id

    assert client.get(f"/api/v1/inbound-events/{event_id}", headers=auth).status_code == 200
    staff("viewer")
    page = client.get(f"/admin/inbound/event/{event_id}")
    assert page.status_code == 200
    assert '{&#34;a&#34;:{&#34;a&#34;:' in page.get_data(as_text=True)  # shown as received, not indented
