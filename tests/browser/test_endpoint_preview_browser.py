"""The endpoint's payload format in a real browser: set a template on the edit form, preview it on the page."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_an_admin_sets_a_template_and_previews_the_body(app, page, sign_in, make_endpoint, receiver, screenshot):
    endpoint = make_endpoint(name="OnlyPerf")
    sign_in(page, "admin")
    page.goto(f"/admin/endpoints/{endpoint.id}/edit")
    page.select_option("#payload_format", "template")
    page.fill("#payload_template", "{{ ''.__class__ }}")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#endpoint-form .invalid-feedback")).to_contain_text("may not read '__class__'")

    page.fill("#payload_template", '{"order_ref": {{ data.order | tojson }}, "ref": {{ reference | tojson }}}')
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Endpoint saved.")
    expect(page.locator("#payload-format")).to_contain_text("template")

    page.fill("#preview-payload", '{"order": {"id": 1001, "name": "#1001"}}')
    page.get_by_role("button", name="Preview the body").click()
    expect(page.locator("#preview-body")).to_have_text('{"order_ref": {"id": 1001, "name": "#1001"}, "ref": "#1001"}')
    expect(page.locator("#preview-content-type")).to_have_text("application/json")
    screenshot(page, "endpoint-preview.png")

    page.fill("#preview-payload", '{"refund": {"id": 5}}')
    page.get_by_role("button", name="Preview the body").click()
    expect(page.locator("#preview-error")).to_contain_text("'dict object' has no attribute 'order'")
    expect(page.locator("#preview-body")).to_have_count(0)
