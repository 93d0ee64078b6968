"""A partner opens its portal link on a phone, finds order #1005, sees why it failed, replays it and sees it
succeed: a real receiver that refuses then accepts, and the real worker."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations
from tests.portal.conftest import make_link
from tests.support.factories import send
from tests.support.receiver import Reply
from tests.support.waiting import wait_until


def _status(app, delivery_id):
    from app.extensions import db
    from app.models import Delivery

    with app.app_context():
        return db.session.get(Delivery, delivery_id).status.value


def test_partner_finds_a_failed_order_sees_why_and_replays_it(app, new_page, live_server, make_endpoint, receiver,
                                                              worker, screenshot):
    receiver.default = Reply(422, b'{"error": "unknown SKU QR-77 for order #1005"}')
    mine, theirs = make_endpoint(event_types=["order.*"]), make_endpoint(event_types=["order.*"])
    for number in (1003, 1004):
        send(app, "order.created", {"order": number}, reference=f"#{number}")
    _, delivery_ids = send(app, "order.created", {"order": 1005}, reference="#1005")
    wait_until(lambda: all(_status(app, d) == "failed" for d in delivery_ids), timeout=30)
    link = make_link(app, [mine.id], capabilities=("replay",))

    page = new_page(width=390, height=844, color_scheme="dark")
    page.goto(f"/portal/enter#{link.token}")
    page.wait_for_url(re.compile(r"/portal/$"))
    assert link.token not in page.url
    expect(page.locator("#endpoints")).to_contain_text("enabled")
    assert theirs.id not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not axe_violations(page)

    page.get_by_role("link", name="Deliveries").click()
    page.fill("#q", "1005")
    page.click("#search")
    rows = page.locator("#deliveries tbody tr")
    expect(rows).to_have_count(1)  # the other partner's #1005 is not listed
    assert not axe_violations(page)
    rows.first.get_by_role("link", name="#1005").click()
    expect(page.locator("#last-error")).to_contain_text("422")
    expect(page.locator("#attempt-1 [data-response]")).to_contain_text("unknown SKU QR-77")
    assert not axe_violations(page)

    receiver.default = Reply(200)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#replay")
    expect(page.locator(".alert-success")).to_contain_text("Replay asked")

    def succeeded():
        page.reload()
        return "succeeded" in page.locator("#delivery-status").inner_text()

    wait_until(succeeded, timeout=30)
    expect(page.locator("#attempt-2")).to_contain_text("replay")
    expect(page.locator("#attempt-2")).to_contain_text("HTTP 200")
    screenshot(page, "portal-delivery.png")
