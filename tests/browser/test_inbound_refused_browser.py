"""The Inbound page leads to the requests no source accepted (one click, with their count) and explains what
"ignored" means wherever it shows."""

import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from app.models import InboundStatus
from tests.browser.conftest import LOOKS, review_in_every_look
from tests.inbound.signing import body_of, shopify
from tests.inbound.sources_helpers import new_event, new_source

pytestmark = pytest.mark.browser


def forged(base_url, source="shop"):
    """POST a webhook signed with the wrong secret; return the HTTP status it was answered with."""
    body = body_of({"id": 1, "order_number": 1006})
    request = urllib.request.Request(f"{base_url}/inbound/{source}", data=body, method="POST",
                                     headers=shopify("shpss_not_the_secret_at_all_0000000", body))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_refused_requests_are_one_click_from_the_inbound_page(app, new_page, sign_in, live_server):
    source_id, _ = new_source(app, "shop", "shopify")
    assert forged(live_server) == 401
    assert forged(live_server) == 401
    page = new_page(*LOOKS[0])
    sign_in(page, "viewer")
    page.goto("/admin/inbound/")
    link = page.locator("#refused-link")
    expect(link.locator("[data-count]")).to_have_text("2")
    link.click()
    page.wait_for_url(re.compile(r"/admin/inbound/refused$"))
    expect(page.locator("#refused-summary")).to_contain_text("2 request(s) refused in the last 24 hours")
    refused = page.locator("#rejection-list tr[data-rejection]")
    expect(refused).to_have_count(2)
    expect(refused.first).to_contain_text("bad_signature")
    review_in_every_look(page)
    refused.first.get_by_role("link", name="shop").click()
    page.wait_for_url(re.compile(rf"/admin/inbound-sources/{source_id}#rejections$"))


def test_ignored_is_explained_where_it_shows(app, new_page, sign_in):
    source_id, _ = new_source(app, "shop", "shopify")
    ignored = new_event(app, source_id, status=InboundStatus.IGNORED, topic="orders/paid")
    page = new_page(*LOOKS[0])
    sign_in(page, "viewer")
    page.goto("/admin/inbound/?status=ignored")
    expect(page.locator("#ignored-help")).to_contain_text("no handler is registered")
    row = page.locator(f'#hy-rows tr[data-id="{ignored}"]')
    expect(row.locator("[data-ignored-why]")).to_have_text("no handler for this topic")
    tooltip = row.locator("span.badge[data-status=ignored]").evaluate("b => b.title || b.dataset.originalTitle")
    assert "no handler is registered" in tooltip  # Bootstrap's tooltip keeps the title in data-original-title
    review_in_every_look(page)
    page.goto(f"/admin/inbound/event/{ignored}")
    expect(page.locator("#ignored-why")).to_contain_text("no handler is registered for shop's “orders/paid” events")
    review_in_every_look(page)
