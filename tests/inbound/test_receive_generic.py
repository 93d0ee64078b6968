"""The generic provider, configured per source through the API, signing as real senders outside the built-in five
do (Slack, WooCommerce, Intercom, Paystack); and Shopify apps serving many shops."""

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from app.errors import InboundRejected
from app.inbound import providers
from app.models.inbound import Provider
from tests.inbound import signing
from tests.inbound.conftest import SHOPIFY_SECRET

SECRET = "generic-secret-8f742231b10e8888"
SLACK = {"signature_header": "X-Slack-Signature", "algorithm": "sha256", "encoding": "hex", "prefix": "v0=",
         "signed": "timestamp_body", "timestamp_header": "X-Slack-Request-Timestamp", "content_prefix": "v0:",
         "separator": ":"}
WOOCOMMERCE = {"signature_header": "X-WC-Webhook-Signature", "encoding": "base64",
               "event_id_header": "X-WC-Webhook-Delivery-ID", "topic_header": "X-WC-Webhook-Topic"}
INTERCOM = {"signature_header": "X-Hub-Signature", "algorithm": "sha1", "prefix": "sha1=", "event_id_path": "id",
            "topic_path": "topic"}
PAYSTACK = {"signature_header": "x-paystack-signature", "algorithm": "sha512", "event_id_path": "data.reference",
            "topic_path": "event"}


def digest(algorithm, message, secret=SECRET):
    return hmac.new(secret.encode(), message, getattr(hashlib, algorithm)).digest()


def slack(body, secret=SECRET, timestamp=None):
    """Slack: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = digest("sha256", f"v0:{timestamp}:".encode() + body, secret).hex()
    return {"X-Slack-Signature": f"v0={signature}", "X-Slack-Request-Timestamp": timestamp,
            "Content-Type": "application/x-www-form-urlencoded"}


def woocommerce(body, secret=SECRET, delivery="8d1d5d4e"):
    """WooCommerce: base64 HMAC-SHA256 of the body; the delivery id and topic in their own headers."""
    return {"X-WC-Webhook-Signature": base64.b64encode(digest("sha256", body, secret)).decode(),
            "X-WC-Webhook-Delivery-ID": delivery, "X-WC-Webhook-Topic": "order.created",
            "Content-Type": "application/json"}


def intercom(body, secret=SECRET):
    """Intercom: sha1=<hex HMAC-SHA1 of the body>; the notification's id and topic in the body."""
    return {"X-Hub-Signature": "sha1=" + digest("sha1", body, secret).hex(), "Content-Type": "application/json"}


def paystack(body, secret=SECRET):
    """Paystack: hex HMAC-SHA512 of the body."""
    return {"x-paystack-signature": digest("sha512", body, secret).hex(), "Content-Type": "application/json"}


SCHEMES = {
    "slack": (SLACK, slack, b"token=xyz&team_id=T1&command=%2Forder&text=1005", None, None),
    "woocommerce": (WOOCOMMERCE, woocommerce, b'{"id":1005,"status":"processing"}', "8d1d5d4e", "order.created"),
    "intercom": (INTERCOM, intercom, b'{"type":"notification_event","id":"notif_ccd8a4d0","topic":"conversation.user.'
                                     b'created","data":{}}', "notif_ccd8a4d0", "conversation.user.created"),
    "paystack": (PAYSTACK, paystack, b'{"event":"charge.success","data":{"reference":"T1005","amount":5900}}',
                 "T1005", "charge.success"),
}


@pytest.fixture
def generic_source(client, auth):
    def make(name, options, **fields):
        response = client.post("/api/v1/inbound-sources", headers=auth, json={
            "name": name, "provider": "generic", "secret": SECRET, "options": options, **fields})
        assert response.status_code == 201, response.json
        return response.json
    return make


def post(client, name, body, headers):
    return client.post(f"/inbound/{name}", data=body, headers=headers)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_generic_source_verifies_a_real_scheme_and_refuses_forged_or_altered_requests(
        client, generic_source, stored, scheme):
    options, sign, body, event_id, topic = SCHEMES[scheme]
    source = generic_source(scheme, options)
    assert source["options"]["signature_header"] == options["signature_header"]

    answer = post(client, scheme, body, sign(body))
    assert answer.status_code == 200, answer.json
    (event,) = stored.events()
    assert event.body == body and event.topic == topic
    assert event.provider_event_id == (event_id or "sha256:" + hashlib.sha256(body).hexdigest())
    assert {k.lower(): v for k, v in event.headers.items()}[options["signature_header"].lower()] == "••••"

    assert post(client, scheme, body, sign(body)).json == {"status": "duplicate", "id": event.id}
    forged = post(client, scheme, body, sign(body, secret="not-the-secret-at-all"))
    altered = post(client, scheme, body + b" ", sign(body))
    unsigned = post(client, scheme, body, {"Content-Type": "application/json"})
    assert [(r.status_code, r.json["reason"]) for r in (forged, altered, unsigned)] == [
        (401, "bad_signature"), (401, "bad_signature"), (401, "missing_signature")]
    assert len(stored.events()) == 1


def test_a_signed_timestamp_outside_the_tolerance_is_refused(client, generic_source, stored):
    generic_source("slack", SLACK, tolerance_seconds=300)
    body = b"token=xyz&text=late"
    stale = post(client, "slack", body, slack(body, timestamp=int(time.time()) - 600))
    early = post(client, "slack", body, slack(body, timestamp=int(time.time()) + 600))
    assert [(r.status_code, r.json["reason"]) for r in (stale, early)] == [(400, "stale"), (400, "stale")]
    assert stored.events() == []


def test_slacks_documented_example_verifies():
    # Slack's "Verifying requests from Slack": this secret, timestamp and body give this signature.
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
            b"channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
            b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRsk"
            b"XaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    headers = {"X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
               "X-Slack-Request-Timestamp": "1531420618"}
    source = SimpleNamespace(provider=Provider.GENERIC, options=SLACK, tolerance_seconds=300)
    verified = providers.verify(source, ["8f742231b10e8888abcd99yyyzzz85a5"], headers, body,
                                datetime.fromtimestamp(1531420618 + 10, UTC))
    assert verified.provider_event_id == "sha256:" + hashlib.sha256(body).hexdigest()
    with pytest.raises(InboundRejected, match="signature does not match"):
        providers.verify(source, ["8f742231b10e8888abcd99yyyzzz85a5"], headers, body + b"x",
                         datetime.fromtimestamp(1531420618, UTC))


@pytest.mark.parametrize(("options", "message"), [
    ({}, "options.signature_header must be an HTTP header name"),
    ({"signature_header": "X-Sig", "algorithm": "md5"}, "algorithm"),
    ({"signature_header": "X-Sig", "encoding": "base32"}, "encoding"),
    ({"signature_header": "X-Sig", "signed": "timestamp_body"}, "timestamp_header"),
    ({"signature_header": "X-Sig", "timestamp_header": "X-Ts"}, "need signed: timestamp_body"),
    ({"signature_header": "X-Sig", "event_id_header": "X-Id", "event_id_path": "id"}, "not both"),
    ({"signature_header": "X-Sig", "prefix": "a b"}, "prefix"),
])
def test_a_bad_generic_configuration_is_refused(client, auth, options, message):
    response = client.post("/api/v1/inbound-sources", headers=auth, json={
        "name": "bad", "provider": "generic", "secret": SECRET, "options": options})
    assert response.status_code == 422 and message in str(response.json)
    assert client.get("/api/v1/inbound-sources", headers=auth).json["data"] == []


def test_shopify_events_of_many_shops_are_told_apart_and_found_by_shop(client, auth, make_source, stored):
    make_source("app")
    # The same webhook id from two shops (each shop's own order #1005): two events; north's retry: a duplicate.
    bodies = {shop: signing.body_of({"id": number, "order_number": 1005})
              for number, shop in enumerate(("north.myshopify.com", "south.myshopify.com"))}
    for shop in ("north.myshopify.com", "south.myshopify.com", "north.myshopify.com"):
        headers = {**signing.shopify(SHOPIFY_SECRET, bodies[shop], webhook_id="wh-1"), "X-Shopify-Shop-Domain": shop}
        assert post(client, "app", bodies[shop], headers).status_code == 200
    events = sorted(stored.events(), key=lambda e: e.provider_event_id)
    assert [(e.provider_event_id, e.duplicate_count) for e in events] == [
        ("north.myshopify.com/wh-1", 1), ("south.myshopify.com/wh-1", 0)]
    assert "south.myshopify.com" in stored.handles(events[1].id)
    found = client.get("/api/v1/inbound-events?q=south.myshopify", headers=auth).json["data"]
    assert [e["id"] for e in found] == [events[1].id]


def test_a_shopify_source_may_accept_only_some_shops(client, auth, make_source, stored):
    make_source("app")
    source = client.get("/api/v1/inbound-sources", headers=auth).json["data"][0]
    response = client.patch(f"/api/v1/inbound-sources/{source['id']}", headers=auth,
                            json={"options": {"shops": ["north.myshopify.com"]}})
    assert response.status_code == 200 and response.json["options"] == {"shops": ["north.myshopify.com"]}
    body = signing.body_of({"id": 2})
    accepted = post(client, "app", body, {**signing.shopify(SHOPIFY_SECRET, body),
                                          "X-Shopify-Shop-Domain": "north.myshopify.com"})
    other = post(client, "app", body, {**signing.shopify(SHOPIFY_SECRET, body, webhook_id="wh-2"),
                                       "X-Shopify-Shop-Domain": "south.myshopify.com"})
    assert accepted.status_code == 200
    assert (other.status_code, other.json["reason"]) == (403, "unknown_shop")
    assert len(stored.events()) == 1
    refused = client.patch(f"/api/v1/inbound-sources/{source['id']}", headers=auth,
                           json={"options": {"shops": ["north.example.com"]}})
    assert refused.status_code == 422
