"""Messages, Audit log and Users look and behave like the console's own pages: text buttons, the console's pager,
and audit targets that are links to what they name."""

import re

import pytest
from flask_babel import lazy_gettext as _l
from playwright.sync_api import expect

from app.audit import SYSTEM, Action, record
from app.extensions import db
from tests.browser.conftest import LOOKS, review_in_every_look
from tests.support.factories import send

pytestmark = pytest.mark.browser


def stock_look(page):
    """What gives a stock Flask-Admin list away: icon-only row links, the < > pager, ids as code."""
    return page.evaluate("""() => ({
        icons: document.querySelectorAll('main .fa-eye, main .fa-pencil, main .fa-check-circle, main a.icon').length,
        arrows: Array.from(document.querySelectorAll('main .page-link'))
            .filter(a => /^[<>]$/.test(a.textContent.trim())).length,
        codeTargets: document.querySelectorAll('main td.col-target_ids code').length})""")


def test_the_model_lists_read_like_the_console(app, new_page, sign_in, make_endpoint):
    endpoint = make_endpoint(name="Shop")
    for n in range(25):
        send(app, payload={"order": n}, reference=f"#60{n:02}")
    with app.app_context():
        record(SYSTEM, Action.ALERT_FIRED, _l("%(rule)s fired: %(summary)s", rule="Backlog", summary="30 pending"),
               target_type="alert",
               target_ids=["rule:backlog"], after={"rule": "backlog", "link": "/admin/?status=pending"})
        db.session.commit()
    page = new_page(*LOOKS[0])
    sign_in(page, "admin")

    page.goto("/admin/messages/")
    expect(page.locator("h1")).to_have_text("Messages")
    expect(page.locator("#model-list tbody tr[data-id]")).to_have_count(20)
    expect(page.locator("#hy-range")).to_have_text("Showing 1–20")
    assert stock_look(page) == {"icons": 0, "arrows": 0, "codeTargets": 0}
    review_in_every_look(page)
    page.get_by_role("link", name="Next", exact=True).click()  # exact: a random id may hold "NEXT"
    page.wait_for_url(re.compile(r"page=1"))
    expect(page.locator("#hy-range")).to_have_text("Showing 21–25")
    page.locator("#model-list a[data-action=view]").first.click()
    page.wait_for_url(re.compile(r"/admin/messages/details/"))
    expect(page.locator("#payload")).to_contain_text("order")

    page.goto("/admin/audit/")
    alert = page.locator("#model-list tr", has_text="Backlog fired")
    expect(alert.locator("a[data-target-link]")).to_have_attribute("href", "/admin/?status=pending")
    created = page.locator("#model-list tr", has_text="endpoint.create").first
    expect(created.locator("a[data-target-link]")).to_have_attribute("href", f"/admin/endpoints/{endpoint.id}")
    expect(created.get_by_role("link", name=re.compile("^Details"))).to_be_visible()
    assert stock_look(page) == {"icons": 0, "arrows": 0, "codeTargets": 0}
    review_in_every_look(page)

    page.goto("/admin/users/")
    me = page.locator("#model-list tr", has_text="admin@example.com")
    expect(me.locator("td.col-active")).to_have_text("yes")
    assert stock_look(page) == {"icons": 0, "arrows": 0, "codeTargets": 0}
    review_in_every_look(page)
    me.get_by_role("link", name="Edit admin@example.com").click()
    page.wait_for_url(re.compile(r"/admin/users/edit/"))
    page.goto("/admin/users/")
    page.locator("#create-row").click()
    page.wait_for_url(re.compile(r"/admin/users/new/"))
