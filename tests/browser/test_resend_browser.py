"""A failed delivery whose edited resend succeeded is no longer an open failure: it leaves the Failed tab and the
overview's failed count, resolved as superseded, with a link to the resend that did the job."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LOOKS, review_in_every_look
from tests.browser.test_monitor_browser import deliveries, row, tab_count, wait_for_status
from tests.support.receiver import Reply

pytestmark = pytest.mark.browser


def test_a_resend_that_succeeds_takes_the_original_out_of_the_failed_count(app, new_page, sign_in, make_endpoint,
                                                                          receiver, worker):
    make_endpoint(name="Shop")
    (original,) = deliveries(app, receiver, Reply(422, b'{"error": "total mismatch"}'), "failed", [
        dict(reference="#1003", payload={"order": {"id": 1003, "total": 10}})])
    receiver.default = Reply(200)
    page = new_page(*LOOKS[0])
    page.on("dialog", lambda dialog: dialog.accept())  # "send it?"
    sign_in(page, "operator")
    page.goto("/admin/overview/")
    expect(page.locator("[data-figure=failed_1h] [data-value]")).to_have_text("1")

    page.goto(f"/admin/log/{original}/resend")
    page.locator("#payload-editor").fill('{"order": {"id": 1003, "total": 12}}')
    page.click("#resend-form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/log/dlv_\w+$"))
    resent = page.url.rsplit("/", 1)[1]
    assert resent != original
    wait_for_status(app, [resent], "succeeded")

    page.goto("/admin/")
    page.keyboard.press("p")  # pause by keyboard: a hovered button's colours are mid-transition when axe reads them
    expect(page.locator("#refresh-label")).to_have_text("Auto-refresh paused")
    assert (tab_count(page, "failed"), tab_count(page, "resolved")) == (0, 1)
    superseded = row(page, original).locator("[data-superseded-by]")
    expect(superseded).to_have_attribute("data-superseded-by", resent)
    review_in_every_look(page)
    page.goto("/admin/overview/")
    expect(page.locator("[data-figure=failed_1h] [data-value]")).to_have_text("0")

    page.goto(f"/admin/log/{original}")
    expect(page.locator("#resolution")).to_contain_text("superseded by")
    review_in_every_look(page)
    page.locator("#superseded-by").click()
    page.wait_for_url(re.compile(rf"/admin/log/{resent}$"))
