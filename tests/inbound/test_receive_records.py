"""What receiving records: one event per provider event id, duplicates counted, paused sources held, unknown
sources and oversized bodies refused, rejections bounded, and the answers' headers."""

import pytest

from app.inbound import counts, rejections
from app.models.inbound import Provider, SourceState
from tests.inbound import signing
from tests.inbound.conftest import SHOPIFY_SECRET, STRIPE_SECRET

BODY = signing.body_of({"id": 5123, "order_number": 1001, "name": "#1001", "order_id": "gid://shopify/Order/5123"})


def send(client, name="shop", body=BODY, webhook_id="wh-1", **headers):
    return client.post(f"/inbound/{name}", data=body,
                       headers={**signing.shopify(SHOPIFY_SECRET, body, webhook_id=webhook_id), **headers})


def test_repeated_event_is_counted_on_the_first_and_not_processed_again(client, make_source, stored, enqueued):
    make_source("shop")
    first = send(client)
    repeats = [send(client) for _ in range(3)]

    assert all(r.status_code == 200 and r.json == {"status": "duplicate", "id": first.json["id"]} for r in repeats)
    (event,) = stored.events()
    assert event.duplicate_count == 3 and event.last_duplicate_at is not None
    assert enqueued == [(event.id, "received")]
    assert (stored.count("shop", "received"), stored.count("shop", "duplicate")) == (1, 3)


def test_same_provider_id_on_two_sources_is_two_events(client, make_source, stored):
    make_source("shop")
    make_source("shop-eu")
    assert send(client, "shop").json["status"] == send(client, "shop-eu").json["status"] == "accepted"
    assert len(stored.events()) == 2


def test_paused_source_stores_the_event_without_processing_it(client, make_source, stored, enqueued):
    make_source("shop", state=SourceState.PAUSED)
    answer = send(client)

    assert answer.status_code == 200 and answer.json["status"] == "accepted"
    (event,) = stored.events()
    assert event.next_attempt_at is None and event.status.value == "received"
    assert enqueued == []


@pytest.mark.parametrize("state", [None, SourceState.DISABLED])
def test_unknown_or_disabled_source_is_404_and_sampled(client, make_source, stored, state):
    if state:
        make_source("shop", state=state)
    answer = send(client)

    assert answer.status_code == 404 and answer.json["reason"] == "unknown_source"
    assert stored.events() == []
    (rejection,) = stored.rejections()
    expected = ("shop", "disabled") if state else (rejections.UNKNOWN_SOURCE, "unknown_source")
    assert (rejection.source_name, rejection.reason) == expected
    assert rejection.detail == "/inbound/shop"


def test_a_flood_of_forged_requests_is_counted_and_only_sampled(client, make_source, stored, monkeypatch):
    make_source("shop")
    for number in range(rejections.SAMPLES_PER_HOUR + 5):
        answer = client.post("/inbound/shop", data=b"x" * 2000, headers={
            "X-Shopify-Hmac-Sha256": "forged", "X-Shopify-Webhook-Id": f"wh-{number}", "Authorization": "Bearer abc"})
        assert answer.status_code == 401

    kept = stored.rejections(source_name="shop")
    assert len(kept) == rejections.SAMPLES_PER_HOUR
    assert stored.count("shop", "bad_signature") == rejections.SAMPLES_PER_HOUR + 5
    assert len(kept[0].body_sample) == rejections.SAMPLE_BYTES and kept[0].body_bytes == 2000
    assert kept[0].headers["X-Shopify-Hmac-Sha256"] == "••••" and kept[0].headers["Authorization"] == "••••"
    assert kept[0].remote_addr == "127.0.0.1"


def test_samples_are_trimmed_to_the_newest_kept(app, make_source, stored, monkeypatch):
    monkeypatch.setattr(rejections, "SAMPLES_KEPT", 3)
    monkeypatch.setattr(rejections, "_OLDEST_KEPT", rejections._OLDEST_KEPT.offset(2))
    with app.test_request_context():
        for number in range(6):
            rejections.record_rejection("shop", "bad_signature", f"#{number}", {}, b"", 0, None)
    assert [r.detail for r in stored.rejections()] == ["#3", "#4", "#5"]


def test_body_over_the_limit_is_413_by_content_length(app, client, make_source, stored):
    make_source("shop")
    app.config["INBOUND_MAX_BODY_BYTES"] = 1000
    body = b"{" + b" " * 1000 + b"}"
    answer = send(client, body=body)

    assert answer.status_code == 413 and answer.json["reason"] == "too_large"
    assert answer.headers["Connection"] == "close"
    assert stored.events() == []
    (rejection,) = stored.rejections()
    assert (rejection.source_name, rejection.reason, rejection.body_bytes) == ("shop", "too_large", 1002)
    assert send(client, body=b"{}").status_code == 200  # at the limit or under it is fine


def test_rejections_of_unknown_names_share_one_bucket(client, stored):
    for name in ("a", "b", "c"):
        client.post(f"/inbound/{name}", data=b"{}")
    assert {r.source_name for r in stored.rejections()} == {rejections.UNKNOWN_SOURCE}
    assert stored.count(rejections.UNKNOWN_SOURCE, "unknown_source") == 3


def test_answers_set_no_cookie_and_keep_the_security_headers(client, make_source):
    make_source("shop")
    for answer in (send(client), client.post("/inbound/shop", data=b"{}")):
        assert "Set-Cookie" not in answer.headers
        assert answer.headers["Content-Type"] == "application/json"
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_form_encoded_body_is_not_parsed_before_verification(client, make_source, stored):
    # A form post with a NUL byte would be refused by the staff pages' input guard; here the signature decides.
    make_source("shop")
    body = b"a=1&b=%00"
    answer = send(client, body=body, **{"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200 and stored.events()[0].body == body


def test_figures_24h_add_up_each_kind_per_source(app, client, make_source):
    make_source("shop")
    make_source("billing", Provider.STRIPE)
    send(client)
    send(client)
    send(client, body=signing.body_of({"id": 2}), webhook_id="wh-2")
    client.post("/inbound/billing", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    with app.app_context():
        figures = counts.figures_24h(["shop", "billing", "quiet"])
    assert figures == {"shop": {"received": 2, "duplicate": 1}, "billing": {"bad_signature": 1}, "quiet": {}}


def test_stripe_secret_and_tokens_never_reach_the_stored_headers(client, make_source, stored):
    make_source("billing", Provider.STRIPE)
    body = signing.body_of({"id": "evt_1", "type": "x"})
    headers = {**signing.stripe_headers(STRIPE_SECRET, body), "Authorization": "Basic dXNlcjpwdw==",
               "X-Api-Key": "k", "X-Request-Id": "req-1"}
    client.post("/inbound/billing", data=body, headers=headers)
    saved = stored.events()[0].headers
    assert saved["Authorization"] == saved["X-Api-Key"] == saved["Stripe-Signature"] == "••••"
    assert saved["X-Request-Id"] == "req-1"
