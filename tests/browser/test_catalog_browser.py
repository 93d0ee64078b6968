"""The event catalog and reference links in a real browser, under the production CSP: an admin adds an event type
(a refused example first), partners read it on the public page without signing in, the endpoint form picks it; a
reference link added on its page turns an order reference on the monitor into a link."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations
from tests.support.factories import send

pytestmark = pytest.mark.browser

SCHEMA = {"type": "object", "required": ["qr_code"],
          "properties": {"qr_code": {"type": "string", "pattern": "^[A-Z]{4}[0-9]{4}$"}}}


def test_an_admin_catalogues_an_event_that_partners_read_and_endpoints_pick(page, new_page, sign_in):
    sign_in(page, "admin")
    page.goto("/admin/event-types/")
    page.fill("#name", "qr.scanned")
    page.fill("#description", "A QR code was scanned at the warehouse")
    page.fill("#schema-editor", json.dumps(SCHEMA))
    page.fill("#example-editor", '{"qr_code": "abcd12"}')
    page.get_by_role("button", name="Save event type").click()
    expect(page.locator("#catalog-error")).to_contain_text("payload.qr_code: 'abcd12' does not match")
    expect(page.locator("#event-types tr[data-event-type]")).to_have_count(0)
    page.fill("#example-editor", '{"qr_code": "ABCD1234"}')  # what was typed is still there; fix the example
    page.get_by_role("button", name="Save event type").click()
    expect(page.locator('#event-types tr[data-event-type="qr.scanned"]')).to_contain_text("ABCD1234")

    partner = new_page()  # no sign-in
    partner.goto("/docs/events")
    section = partner.locator('section[data-event-type="qr.scanned"]')
    expect(section).to_contain_text("A QR code was scanned at the warehouse")
    expect(section).to_contain_text('"pattern": "^[A-Z]{4}[0-9]{4}$"')
    assert axe_violations(partner) == []

    page.goto("/admin/endpoints/new")
    page.locator('#catalog-picker [data-add-pattern="qr.scanned"]').click()
    page.locator('#catalog-picker [data-add-pattern="qr.*"]').click()
    expect(page.locator("#event_types")).to_have_value("qr.scanned, qr.*")


def test_a_reference_link_added_by_an_admin_turns_a_reference_into_a_link(app, page, sign_in, make_endpoint):
    make_endpoint(name="Shop")
    send(app, "order.created", {"order": 1001}, reference="#1001")
    sign_in(page, "admin")
    page.goto("/admin/reference-links/")
    page.fill("#name", "Shopify")
    page.fill("#value_pattern", "#{n}")
    page.fill("#url_template", "javascript:alert(1)")
    page.get_by_role("button", name="Add reference link").click()
    expect(page.locator("#reference-link-error")).to_contain_text("other schemes are refused")
    page.fill("#url_template", "https://admin.shopify.com/store/x/orders/{n}")
    page.get_by_role("button", name="Add reference link").click()
    expect(page.locator("#reference-links")).to_contain_text("Shopify")

    page.goto("/admin/")
    link = page.locator("#hy-rows a[data-reference-link]")
    expect(link).to_have_attribute("href", "https://admin.shopify.com/store/x/orders/1001")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
