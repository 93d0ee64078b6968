"""The monitor stays true after what a person does in place: tab counts and the retry allowance follow a row action,
the address bar follows a search typed in place, and the keyboard opens a row's log at the first Enter."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_monitor_browser import deliveries, pause_refresh, row
from tests.support.receiver import Reply

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_j_then_enter_right_after_the_page_loads(app, page, sign_in, make_endpoint, receiver, worker, role):
    make_endpoint(name="Shop")
    ids = deliveries(app, receiver, Reply(200), "succeeded", [dict(reference=f"#30{n}") for n in range(3)])
    sign_in(page, role)
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/admin/log/{ids[-1]}"))


def test_a_row_action_updates_the_tab_counts_and_the_allowance_in_place(app, page, sign_in, make_endpoint, receiver,
                                                                        worker):
    make_endpoint(name="Shop")
    failed = deliveries(app, receiver, Reply(422, b'{"error": "unknown sku"}'), "failed",
                        [dict(reference=f"#31{n}") for n in range(2)])
    receiver.default = Reply(200)
    sign_in(page, "operator")
    pause_refresh(page)
    page.evaluate("window.hyNotReloaded = true")
    expect(page.locator("#count-failed")).to_have_text("2")
    expect(page.locator("#retry-allowance")).to_have_text("10 of 10 retries left this hour")

    row(page, failed[0]).locator("button[data-action=retry]").click()
    expect(page.locator("#retry-allowance")).to_have_text("9 of 10 retries left this hour")
    expect(row(page, failed[0]).locator("[data-outcome]")).to_have_attribute("data-outcome", "succeeded",
                                                                             timeout=15_000)
    expect(page.locator("#count-failed")).to_have_text("1")
    expect(page.locator("#count-succeeded")).to_have_text("1")
    assert page.evaluate("window.hyNotReloaded") is True  # all of it in place


def listed(page):
    return page.locator("#hy-rows tr[data-id]").evaluate_all("rows => rows.map(r => r.dataset.id)")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_search_typed_in_place_is_kept_in_the_address(app, new_page, sign_in, make_endpoint, receiver, worker,
                                                          width):
    make_endpoint(name="Shop")
    ok = deliveries(app, receiver, Reply(200), "succeeded", [dict(reference=f"#32{n}") for n in range(2)])
    (failed,) = deliveries(app, receiver, Reply(400, b"no"), "failed", [dict(reference="#3300")])
    page = new_page(width, 900)
    sign_in(page, "operator")
    pause_refresh(page)
    page.evaluate("window.hyNotReloaded = true")
    page.locator("#q").press_sequentially("#320")  # typed, not submitted
    expect(page.locator("#hy-rows tr[data-id]")).to_have_count(1)
    assert listed(page) == [ok[0]]
    page.wait_for_url(re.compile(r"\?q=%23320$"))
    assert page.evaluate("window.hyNotReloaded") is True
    assert (page.input_value("#q"), page.evaluate("document.activeElement.id")) == ("#320", "q")
    expect(page.locator("#count-all")).to_have_text("1")  # the tabs follow the search
    expect(page.locator("#status-tabs a[data-tab=failed]")).to_have_attribute("href", re.compile(r"q=%23320"))

    page.reload()  # a reload, or the link shared, shows the same rows
    expect(page.locator("#q")).to_have_value("#320")
    assert listed(page) == [ok[0]]

    page.fill("#q", "")
    page.wait_for_url(re.compile(r"/admin/$"))
    expect(page.locator("#hy-rows tr[data-id]")).to_have_count(3)
    expect(page.locator("#retry-matching")).to_have_attribute("href", re.compile(r"^[^q]*$"))
    assert failed in listed(page)
