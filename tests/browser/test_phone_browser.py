"""The console on a 390 px phone: no page scrolls sideways, and the monitor's first row is on the first screen."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations
from tests.browser.test_console_browser import populated  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser

#: Script naming the outermost elements that stick out of the phone's width (for a failure's message).
STICKING_OUT = """() => Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > 391 && e.parentElement.getBoundingClientRect().right <= 391)
    .slice(0, 6).map(e => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""
#: The phone: an iPhone 14's viewport.
PHONE = (390, 844)


def menu_entries(page):
    """Every page the navigation menu offers (its links, whatever the menu holds today)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('#admin-navbar-collapse ul.navbar-nav a[href]'))
        .map(a => a.getAttribute('href')).filter(h => h && h !== '#' && h.startsWith('/'))""")


def test_no_main_page_scrolls_sideways_on_a_phone(new_page, sign_in, populated, api_key):  # noqa: F811
    page = new_page(*PHONE)
    sign_in(page, "admin")
    entries = menu_entries(page)
    assert len(entries) >= 15, entries
    wide = {}
    for url in entries:
        answer = page.goto(url)
        assert answer.ok, f"{url}: {answer.status}"
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE[0]:
            wide[url] = (width, page.evaluate(STICKING_OUT))
    assert wide == {}, wide


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_monitor_shows_its_first_row_on_a_phones_first_screen(new_page, sign_in, populated, scheme):  # noqa: F811
    page = new_page(*PHONE, scheme)
    sign_in(page, "operator")
    first = page.locator("#hy-rows tr[data-id]").first
    top = first.evaluate("r => r.getBoundingClientRect().top + window.scrollY")
    assert top < PHONE[1] - 100, f"the first row starts {top} px down"
    expect(page.locator("#q")).to_be_visible()  # the search stays at hand
    expect(page.locator("#endpoint_id")).to_be_hidden()
    expect(page.locator("#bulk-form")).to_be_hidden()
    assert axe_violations(page) == []

    toggle = page.locator("#monitor-controls-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.press("Enter")  # by keyboard: a hovered button's colours are mid-transition when axe reads them
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#endpoint_id")).to_be_visible()
    expect(page.locator("#bulk-form button[value=retry]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    assert axe_violations(page) == []
    toggle.click()
    expect(page.locator("#endpoint_id")).to_be_hidden()


def test_the_monitor_keeps_its_filters_open_on_a_wide_screen(new_page, sign_in, populated):  # noqa: F811
    page = new_page(1280, 900)
    sign_in(page, "operator")
    expect(page.locator("#monitor-controls-toggle")).to_be_hidden()
    expect(page.locator("#endpoint_id")).to_be_visible()
    expect(page.locator("#bulk-form")).to_be_visible()
