"""Each provider's real signing rules, through the receiving URL: authentic requests are stored byte for byte;
forged, altered, unsigned and stale ones are refused with the reason."""

import time

import pytest
import stripe

from app.models.inbound import InboundStatus, Provider
from tests.inbound import signing
from tests.inbound.conftest import GITHUB_SECRET, SHOPIFY_SECRET, STANDARD_SECRET, STRIPE_SECRET, ZOHO_TOKEN

ORDER = {"id": 820982911946154508, "order_number": 1005, "name": "#1005", "email": "jon@example.com",
         "note": "Grüße aus Köln ✓", "line_items": [{"sku": "SKU-1", "quantity": 1}]}


def post(client, name, body, headers):
    return client.post(f"/inbound/{name}", data=body, headers=headers)


def test_shopify_webhook_is_stored_with_its_exact_bytes(client, make_source, stored, enqueued):
    make_source("shop")
    # Spacing and key order a re-serialisation would change: the signature covers these bytes only.
    body = b'{"id": 820982911946154508,  "order_number":1005, "name":"#1005", "note":"Gr\xc3\xbc\xc3\x9fe"}'
    answer = post(client, "shop", body, signing.shopify(SHOPIFY_SECRET, body, webhook_id="wh-77", event_id="ev-9"))

    assert answer.status_code == 200
    (event,) = stored.events()
    assert answer.json == {"status": "accepted", "id": event.id}
    assert event.body == body and event.body_bytes == len(body)
    assert (event.provider_event_id, event.provider_event_ref, event.topic) == (
        signing.shopify_id("wh-77"), "ev-9", "orders/create")
    assert event.status is InboundStatus.RECEIVED and event.next_attempt_at is not None
    assert event.headers["X-Shopify-Hmac-Sha256"] == "••••"
    assert event.headers["X-Shopify-Shop-Domain"] == "shop.myshopify.com"
    assert enqueued == [(event.id, "received")]
    assert {"820982911946154508", "1005", "#1005", "shop.myshopify.com", "wh-77"} <= stored.handles(event.id)


def test_shopify_unprefixed_header_spellings_are_accepted(client, make_source, stored):
    make_source("shop")
    body = signing.body_of(ORDER)
    answer = post(client, "shop", body, signing.shopify(SHOPIFY_SECRET, body, webhook_id="wh-new", prefixed=False))

    assert answer.status_code == 200, answer.json
    assert stored.events()[0].provider_event_id == signing.shopify_id("wh-new")


def test_shopify_header_names_are_case_insensitive(client, make_source):
    make_source("shop")
    body = signing.body_of(ORDER)
    headers = {name.lower(): value for name, value in signing.shopify(SHOPIFY_SECRET, body).items()}
    assert post(client, "shop", body, headers).status_code == 200


def test_shopify_old_secret_verifies_during_its_grace_and_not_after(client, make_source, stored):
    make_source("shop", secret="new-secret", retired=[("old-secret", 3600), ("expired-secret", -1)])
    body = signing.body_of(ORDER)

    for number, secret in enumerate(("new-secret", "old-secret")):
        body = signing.body_of({**ORDER, "id": number})  # one body is one event for 24 h (app.inbound.replays)
        answer = post(client, "shop", body, signing.shopify(secret, body, webhook_id=f"wh-{number}"))
        assert answer.status_code == 200, (secret, answer.json)
    expired = post(client, "shop", body, signing.shopify("expired-secret", body, webhook_id="wh-x"))

    assert expired.status_code == 401 and expired.json["reason"] == "bad_signature"
    assert len(stored.events()) == 2


@pytest.mark.parametrize("tamper, reason", [
    (lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": signing.shopify("wrong", b)["X-Shopify-Hmac-Sha256"]}, b),
     "bad_signature"),
    (lambda h, b: (h, b.replace(b"1005", b"1006")), "bad_signature"),
    (lambda h, b: ({k: v for k, v in h.items() if k != "X-Shopify-Hmac-Sha256"}, b), "missing_signature"),
    (lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": "not base64 ü"}, b), "bad_signature"),
])
def test_forged_altered_or_unsigned_shopify_requests_are_refused(client, make_source, stored, tamper, reason):
    make_source("shop")
    body = signing.body_of(ORDER)
    headers, sent = tamper(signing.shopify(SHOPIFY_SECRET, body), body)
    answer = post(client, "shop", sent, headers)

    assert answer.status_code == 401
    assert answer.json["reason"] == reason and answer.json["error"]
    assert stored.events() == []
    (rejection,) = stored.rejections()
    assert (rejection.source_name, rejection.reason) == ("shop", reason)
    assert stored.count("shop", reason) == 1


def test_authentic_shopify_request_without_webhook_id_is_malformed(client, make_source):
    make_source("shop")
    body = signing.body_of(ORDER)
    headers = {k: v for k, v in signing.shopify(SHOPIFY_SECRET, body).items() if k != "X-Shopify-Webhook-Id"}
    answer = post(client, "shop", body, headers)
    assert (answer.status_code, answer.json["reason"]) == (400, "malformed")


def test_stripe_event_verified_with_the_stripe_library_signature(client, make_source, stored):
    make_source("billing", Provider.STRIPE)
    body = signing.body_of({"id": "evt_1", "type": "charge.succeeded", "data": {"object": {"id": "ch_42"}}})
    headers = signing.stripe_headers(STRIPE_SECRET, body)
    stripe.WebhookSignature.verify_header(body, headers["Stripe-Signature"], STRIPE_SECRET, tolerance=300)

    answer = post(client, "billing", body, headers)

    assert answer.status_code == 200, answer.json
    (event,) = stored.events()
    assert (event.provider_event_id, event.topic) == ("evt_1", "charge.succeeded")
    assert "ch_42" in stored.handles(event.id)
    assert event.headers["Stripe-Signature"] == "••••"


def test_stripe_any_v1_may_match_while_a_secret_is_rolled(client, make_source):
    make_source("billing", Provider.STRIPE, secret="whsec_new", retired=[("whsec_old", 3600)])
    body = signing.body_of({"id": "evt_2", "type": "invoice.paid"})
    headers = signing.stripe_headers("whsec_unknown", body, extra_secrets=("whsec_old",))
    assert post(client, "billing", body, headers).status_code == 200


def test_stripe_stale_timestamp_is_400_saying_stale(client, make_source, stored):
    make_source("billing", Provider.STRIPE, tolerance_seconds=300)
    body = signing.body_of({"id": "evt_3", "type": "invoice.paid"})
    headers = signing.stripe_headers(STRIPE_SECRET, body, timestamp=int(time.time()) - 400)
    answer = post(client, "billing", body, headers)

    assert (answer.status_code, answer.json["reason"]) == (400, "stale")
    assert "300 s" in answer.json["error"]
    assert stored.events() == [] and stored.rejections()[0].reason == "stale"


def test_stripe_signature_over_another_timestamp_is_refused(client, make_source):
    make_source("billing", Provider.STRIPE)
    body = signing.body_of({"id": "evt_4", "type": "invoice.paid"})
    header = signing.stripe_headers(STRIPE_SECRET, body)["Stripe-Signature"]
    moved = header.replace("t=", "t=1", 1)
    for value, reason in ((moved, "bad_signature"), ("garbage", "bad_signature"), ("", "missing_signature")):
        answer = post(client, "billing", body, {"Stripe-Signature": value})
        assert (answer.status_code, answer.json["reason"]) == (401, reason), value


def test_stripe_authentic_body_without_an_event_id_is_malformed(client, make_source):
    make_source("billing", Provider.STRIPE)
    for body in (b"[1, 2]", b"not json", signing.body_of({"type": "invoice.paid"})):
        answer = post(client, "billing", body, signing.stripe_headers(STRIPE_SECRET, body))
        assert (answer.status_code, answer.json["reason"]) == (400, "malformed"), body


def test_standard_webhook_signed_by_the_standardwebhooks_library(client, make_source, stored):
    make_source("svix", Provider.STANDARD)
    body = signing.body_of({"type": "user.created", "data": {"id": "usr_9"}})
    answer = post(client, "svix", body, signing.standard(STANDARD_SECRET, body, msg_id="msg_2Lh"))

    assert answer.status_code == 200, answer.json
    (event,) = stored.events()
    assert event.provider_event_id == "msg_2Lh"
    assert event.headers["Webhook-Signature"] == "••••" and event.headers["Webhook-Id"] == "msg_2Lh"


@pytest.mark.parametrize("offset", [-400, 400])
def test_standard_webhook_too_old_or_too_new_is_stale(client, make_source, offset):
    make_source("svix", Provider.STANDARD)
    body = b'{"type":"user.created"}'
    answer = post(client, "svix", body, signing.standard(STANDARD_SECRET, body, timestamp=int(time.time()) + offset))
    assert (answer.status_code, answer.json["reason"]) == (400, "stale")


def test_standard_webhook_malformed_signature_entries_are_401_not_500(client, make_source):
    make_source("svix", Provider.STANDARD)
    body = b'{"type":"user.created"}'
    headers = signing.standard(STANDARD_SECRET, body)
    for value in ("v1", "v1,@@@", "v1a,abc", "v2,x v1,AAAA"):
        answer = post(client, "svix", body, {**headers, "webhook-signature": value})
        assert (answer.status_code, answer.json["reason"]) == (401, "bad_signature"), value
    answer = post(client, "svix", body, {k: v for k, v in headers.items() if k != "webhook-id"})
    assert (answer.status_code, answer.json["reason"]) == (401, "missing_signature")


def test_standard_webhook_second_entry_of_a_rotation_matches(client, make_source):
    make_source("svix", Provider.STANDARD)
    body = b'{"type":"user.created"}'
    good = signing.standard(STANDARD_SECRET, body)
    other = signing.standard("whsec_" + "A" * 32, body)["webhook-signature"]
    headers = {**good, "webhook-signature": f"{other} {good['webhook-signature']}"}
    assert post(client, "svix", body, headers).status_code == 200


def test_github_delivery_is_keyed_by_its_guid(client, make_source, stored):
    make_source("gh", Provider.GITHUB)
    body = b'{"action":"opened","pull_request":{"number":7}}'
    answer = post(client, "gh", body, signing.github(GITHUB_SECRET, body, event="pull_request"))

    assert answer.status_code == 200, answer.json
    (event,) = stored.events()
    assert (event.provider_event_id, event.provider_event_ref, event.topic) == (
        "72d3162e-cc78-11e3-81ab-4c9367dc0958", "42", "pull_request")
    forged = post(client, "gh", body, signing.github("wrong", body))
    assert (forged.status_code, forged.json["reason"]) == (401, "bad_signature")


def test_github_documented_example_signature_verifies(client, make_source):
    # GitHub's documentation: secret "It's a Secret to Everybody", body "Hello, World!".
    make_source("gh", Provider.GITHUB)
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    answer = post(client, "gh", b"Hello, World!", {"X-Hub-Signature-256": expected, "X-GitHub-Delivery": "d-1"})
    assert answer.status_code == 200, answer.json


def test_zoho_token_in_the_configured_header_and_event_id_field(client, make_source, stored):
    make_source("zoho", Provider.ZOHO, options={"token_header": "X-Zoho-Key", "event_id_field": "data.id",
                                                "topic_field": "module"})
    body = b'{"module":"Deals","data":{"id":"4150868000000623001"}}'
    answer = post(client, "zoho", body, {"X-Zoho-Key": ZOHO_TOKEN, "Content-Type": "application/json"})

    assert answer.status_code == 200, answer.json
    (event,) = stored.events()
    assert (event.provider_event_id, event.topic) == ("4150868000000623001", "Deals")
    assert event.headers["X-Zoho-Key"] == "••••"
    wrong = post(client, "zoho", body, {"X-Zoho-Key": ZOHO_TOKEN + "x"})
    assert (wrong.status_code, wrong.json["reason"]) == (401, "bad_signature")
    assert post(client, "zoho", body, {}).json["reason"] == "missing_signature"


def test_zoho_form_post_keeps_its_raw_bytes_and_dedupes_on_a_body_hash(client, make_source, stored):
    make_source("zoho", Provider.ZOHO)
    body = b"salesorder_id=5000&status=fulfilled&note=a%26b"
    headers = {"Authorization": f"Bearer {ZOHO_TOKEN}", "Content-Type": "application/x-www-form-urlencoded"}

    first, again = post(client, "zoho", body, headers), post(client, "zoho", body, headers)

    assert first.status_code == again.status_code == 200
    assert again.json == {"status": "duplicate", "id": first.json["id"]}
    (event,) = stored.events()
    assert event.body == body and event.provider_event_id.startswith("sha256:")
    assert event.headers["Authorization"] == "••••"
