"""Why a partner refused a webhook, in its own words, where staff look: the monitor row, the delivery page and the
endpoint page (which says what fails, not only how many times in a row)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LOOKS, review_in_every_look
from tests.browser.test_monitor_browser import deliveries, row
from tests.support.receiver import Reply

pytestmark = pytest.mark.browser

#: A partner's refusal: its reason in a JSON error field, with markup that must show as text.
REFUSAL = Reply(422, b'{"error": "unknown sku <b>A-1</b>", "code": 17}')


def test_the_partners_reason_shows_beside_the_status(app, new_page, sign_in, make_endpoint, receiver, worker):
    endpoint = make_endpoint(name="Shop")
    (broken,) = deliveries(app, receiver, Reply(500, b"Internal Server Error\nstack trace..."), "failed",
                           [dict(reference="#7002")])
    (refused,) = deliveries(app, receiver, REFUSAL, "failed", [dict(reference="#7001")])
    page = new_page(*LOOKS[0])
    sign_in(page, "operator")
    page.keyboard.press("p")  # pause by keyboard: a hovered button's colours are mid-transition when axe reads them
    expect(page.locator("#refresh-label")).to_have_text("Auto-refresh paused")
    error = row(page, refused).locator(".col-error")
    expect(error).to_contain_text("HTTP 422")
    expect(error.locator("[data-reason]")).to_have_text("“unknown sku <b>A-1</b>”")
    expect(row(page, broken).locator("[data-reason]")).to_have_text("“Internal Server Error”")
    assert page.locator("#hy-rows b").count() == 0  # escaped, never markup
    review_in_every_look(page)

    row(page, refused).locator("a[data-action=log]").click()
    page.wait_for_url(re.compile(rf"/admin/log/{refused}"))
    expect(page.locator("#last-error")).to_contain_text("HTTP 422 Unprocessable Entity")
    expect(page.locator("#last-error [data-reason]")).to_contain_text("“unknown sku <b>A-1</b>”")
    review_in_every_look(page)

    page.goto(f"/admin/endpoints/{endpoint.id}")
    latest = page.locator("#recent-errors [data-recent-error]")
    expect(latest).to_have_count(3)  # the last three failed attempts, newest first
    partner = latest.first
    expect(partner).to_contain_text("HTTP 422 Unprocessable Entity")
    expect(partner).to_contain_text("“unknown sku <b>A-1</b>”")
    expect(latest.nth(1)).to_contain_text("“Internal Server Error”")
    review_in_every_look(page)
    partner.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/admin/log/{refused}$"))
