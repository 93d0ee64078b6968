"""The Inbound page in a real browser: a Shopify webhook sent through real HTTP fails in the host app's handler;
staff find it, view it, replay it once the handler is fixed, and watch it end processed, all under the
production Content-Security-Policy (see new_page in conftest)."""

import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.inbound.handlers import inbound_handler, remove_handler
from app.models import InboundEvent, InboundStatus
from tests.inbound.signing import body_of, shopify
from tests.inbound.sources_helpers import new_source
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

SHOPIFY_KEY = "shpss_0123456789abcdef0123456789abcdef"
ORDER = {"id": 820982911946154500, "order_number": 1005, "note_attributes": [{"name": "qr", "value": "QR-7F3A"}],
         "line_items": [{"sku": "WATCH-01", "quantity": 1}]}


@pytest.fixture(autouse=True)
def _one_processing(monkeypatch):
    """A failed processing stays failed (no automatic retry), so only the replay can process it again."""
    monkeypatch.setenv("INBOUND_MAX_ATTEMPTS", "1")


@pytest.fixture
def warranty_handler():
    """The host app's handler for fulfilled orders; it fails while `state["broken"]` holds a reason."""
    state = {"broken": "warranty service refused SKU WATCH-01", "seen": []}

    def register_warranty(event, payload):
        state["seen"].append(payload["order_number"])
        if state["broken"]:
            raise RuntimeError(state["broken"])

    inbound_handler("shopify", "orders/fulfilled")(register_warranty)
    yield state
    remove_handler(register_warranty)


def post_webhook(base_url, body):
    """POST a Shopify-signed webhook to /inbound/shop over real HTTP; return the answer's status and JSON."""
    headers = shopify(SHOPIFY_KEY, body, webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
                      topic="orders/fulfilled", event_id="e-1005")
    request = urllib.request.Request(f"{base_url}/inbound/shop", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def event_status(app, event_id):
    with app.app_context():
        return db.session.scalar(select(InboundEvent.status).where(InboundEvent.id == event_id))


def test_find_a_failed_event_view_it_replay_it_and_see_it_processed(
        app, page, sign_in, live_server, worker, warranty_handler, screenshot):
    # Given a Shopify order webhook whose processing failed in the host app's handler
    new_source(app, "shop", "shopify", secret=SHOPIFY_KEY)
    status, answer = post_webhook(live_server, body_of(ORDER))
    assert (status, answer["status"]) == (200, "accepted")
    event_id = answer["id"]
    wait_until(lambda: event_status(app, event_id) is InboundStatus.FAILED, timeout=20)

    # When staff open the failed events of the source (the link alerts give) and search the order number
    sign_in(page, "operator")
    page.get_by_role("link", name="Inbound", exact=True).click()
    expect(page.locator("#count-failed")).to_have_text("1")
    page.goto("/admin/inbound/?source=shop&status=failed")
    page.fill("#q", "#1005")
    page.locator("#q").press("Enter")
    row = page.locator(f'#hy-rows tr[data-id="{event_id}"]')
    expect(row).to_have_count(1)
    expect(row.locator(".col-error")).to_contain_text("RuntimeError: warranty service refused SKU WATCH-01")
    expect(page.locator("#hy-rows tr[data-id]")).to_have_count(1)

    # Then they view it: the body as JSON, the masked signature, the failed attempt
    row.locator("a[data-action=log]").click()
    expect(page.locator("#event-headline")).to_contain_text("orders/fulfilled")
    expect(page.locator("#event-body")).to_contain_text('"order_number": 1005')
    expect(page.locator("#event-headers")).to_contain_text("X-Shopify-Topic")
    assert page.locator("#event-headers").inner_text().count("••••") >= 1
    assert SHOPIFY_KEY not in page.content()
    expect(page.locator(".attempt[data-attempt='1']")).to_contain_text("warranty service refused")
    screenshot(page, "inbound-event.png")

    # And once the handler is fixed, they go back and replay it from its row, which shows it processed
    warranty_handler["broken"] = None
    page.get_by_role("link", name="Back to inbound webhooks").click()
    page.wait_for_url(re.compile(r"/admin/inbound/\?"))  # loaded, scripts too: the replay button posts through htmx
    row = page.locator(f'#hy-rows tr[data-id="{event_id}"]')
    row.locator("button[data-action=replay]").click()
    expect(row.locator("[data-outcome]")).to_have_attribute("data-outcome", "processed", timeout=20_000)
    expect(row.locator("[data-replay-blocked]")).to_contain_text("cooldown")  # replaying again waits
    assert event_status(app, event_id) is InboundStatus.PROCESSED
    assert warranty_handler["seen"] == [1005, 1005]

    page.goto(f"/admin/inbound/event/{event_id}")
    expect(page.locator(".attempt[data-attempt='2']")).to_contain_text("replay by operator@example.com")
    expect(page.locator("#event-headline [data-status]")).to_have_text("processed")
