"""An admin creates an API key in the console and copies it, changes a setting (and sees a refused one explained), and
uploads the shop's logo; a partner then opens the portal with the shop's name and logo. At desktop and phone widths,
light and dark, with no sideways scrolling and no serious accessibility violation."""

import re

from playwright.sync_api import expect

from app.extensions import db
from app.models import Setting
from tests.browser.conftest import LOOKS, review_in_every_look
from tests.portal.conftest import make_link
from tests.support.images import png


def test_api_key_setting_and_logo_reach_the_console_and_the_portal(app, new_page, sign_in, make_endpoint, screenshot):
    page = new_page(*LOOKS[0])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "admin")

    # An API key, created and copied; the page says it is shown once.
    page.goto("/admin/api-keys/")
    review_in_every_look(page)
    page.fill("#key-name", "warehouse")
    page.get_by_label(re.compile("^read: ")).check()
    page.get_by_label(re.compile("^messages:write: ")).check()
    page.click("#create-api-key")
    expect(page.locator("#key-once")).to_contain_text("you will not see it again")
    page.wait_for_load_state()  # the copy button works once the page's script has loaded
    key = page.locator("#new-api-key").inner_text().strip()
    assert key.startswith("hky_")
    page.get_by_role("button", name="Copy the key").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    review_in_every_look(page)
    assert app.test_client().get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    page.click("#key-done")
    expect(page.locator("#api-keys")).to_contain_text("warehouse")
    assert key not in page.content()

    # A setting changed, and a refused one explained with nothing saved.
    page.goto("/admin/settings/")
    review_in_every_look(page)
    page.fill("#breaker_threshold", "0")
    page.click("#save-settings")
    expect(page.locator('[data-error="breaker_threshold"]')).to_contain_text("must be from 1 to 100000")
    review_in_every_look(page)
    page.fill("#breaker_threshold", "3")
    page.fill("#shop_name", "Mosaic Tiles")
    page.click("#save-settings")
    expect(page.locator(".alert-success")).to_contain_text("Settings saved.")
    with app.app_context():
        assert {s.key: s.value for s in db.session.query(Setting)} == {"breaker_threshold": 3,
                                                                      "shop_name": "Mosaic Tiles"}

    # The shop's logo, uploaded.
    page.set_input_files("#logo", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png(96, 32)}])
    page.click("#upload-logo")
    expect(page.locator(".alert-success")).to_contain_text("Logo uploaded")
    expect(page.locator("#logo-preview")).to_be_visible()
    review_in_every_look(page, screenshot, "settings")

    # A partner opens the portal: the shop's name and logo, served from Hookyard's own origin.
    link = make_link(app, [make_endpoint().id])
    portal = new_page(*LOOKS[0])
    portal.goto(f"/portal/enter#{link.token}")
    portal.wait_for_url(re.compile(r"/portal/$"))
    logo = portal.locator("#portal-logo")
    expect(logo).to_be_visible()
    expect(logo).to_have_attribute("alt", "Mosaic Tiles logo")
    # loaded, the CSP allowing it (an image still loading is not complete yet: wait for it, not for a time)
    portal.wait_for_function("() => { const i = document.querySelector('#portal-logo');"
                             " return i.complete && i.naturalWidth === 96; }")
    expect(portal.locator("#shop-name")).to_have_text("Mosaic Tiles")
    assert "Mosaic Tiles" in portal.title()
    review_in_every_look(portal, screenshot, "portal-branded")
