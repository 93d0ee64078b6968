"""Console v2 in a real browser: refresh in place, replay, edit and resend, resolve, the retry cap and its lift,
forgiving search, keyboard, 390 px and dark mode, axe-core on the main pages. Every page here runs under the
production Content-Security-Policy; a violation fails the test (see new_page in conftest)."""

import json
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.audit import Actor
from app.extensions import db
from app.models import AuditEntry, InboundStatus, Message
from app.staff.settings import set_setting
from tests.browser.conftest import axe_violations
from tests.browser.test_monitor_browser import deliveries, pause_refresh, row, tab_count
from tests.inbound.sources_helpers import new_event, new_source
from tests.support.factories import send
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

ADMIN = Actor("admin@example.com")


def settings(app, **values):
    with app.app_context():
        for key, value in values.items():
            set_setting(key, value, actor=ADMIN)


def listed_ids(page):
    return page.locator("#hy-rows tr[data-id]").evaluate_all("rows => rows.map(r => r.dataset.id)")


def test_refresh_in_place_keeps_a_typed_search(app, page, sign_in, make_endpoint, receiver, worker):
    make_endpoint(name="Shop")
    first = deliveries(app, receiver, Reply(200), "succeeded", [dict(reference="#2001")])
    settings(app, refresh_seconds=5)
    sign_in(page, "operator")
    page.evaluate("window.hyNotReloaded = true")
    page.fill("#q", "#200")  # typed, not submitted: it applies in place and matches both rows
    expect(page.locator("#refresh-label")).to_have_text(re.compile(r"Refreshing in \d s"))

    later = deliveries(app, receiver, Reply(400, b"unknown sku"), "failed", [dict(reference="#2002")])
    expect(page.locator(f'#hy-rows tr[data-id="{later[0]}"]')).to_have_count(1, timeout=20_000)
    assert listed_ids(page) == later + first
    expect(page.locator("#count-failed")).to_have_text("1")
    expect(row(page, later[0]).locator(".col-error")).to_contain_text("HTTP 400")
    assert page.evaluate("window.hyNotReloaded") is True  # swapped in place, not reloaded
    assert page.input_value("#q") == "#200"
    assert page.evaluate("document.activeElement.id") == "q"

    row(page, later[0]).locator("input.action-checkbox").check()
    expect(page.locator("#refresh-label")).to_have_text("Auto-refresh waits while rows are selected")
    expect(page.locator("#bulk-count")).to_have_text("1 selected")


def test_replay_of_a_succeeded_delivery(app, page, sign_in, make_endpoint, receiver, worker):
    make_endpoint(name="Shop")
    (delivery_id,) = deliveries(app, receiver, Reply(200), "succeeded", [
        dict(reference="#1001", payload={"qrCode": "ABCD1234"})])
    sign_in(page, "operator")
    pause_refresh(page)
    expect(row(page, delivery_id).locator("button[data-action=retry]")).to_have_count(0)
    row(page, delivery_id).locator("button[data-action=replay]").click()
    outcome = row(page, delivery_id).locator("[data-outcome]")
    expect(outcome).to_contain_text("Attempt #2: succeeded, HTTP 200", timeout=15_000)
    first, second = receiver.wait_for(2)
    assert json.loads(second.body) == {"qrCode": "ABCD1234"} and second.headers["webhook-id"] == first.headers[
        "webhook-id"]
    outcome.get_by_role("link", name="see it").click()
    expect(page.locator(".attempt[data-attempt='2']")).to_contain_text("replay by operator@example.com")


def test_edit_and_resend_links_both_ways_with_the_diff_audited(app, page, sign_in, make_endpoint, receiver, worker,
                                                                screenshot):
    make_endpoint(name="Shop")
    (delivery_id,) = deliveries(app, receiver, Reply(422, b"total mismatch"), "failed", [
        dict(reference="#1003", payload={"order": {"id": 1003, "total": 10}})])
    receiver.default = Reply(200)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "operator")
    pause_refresh(page)
    row(page, delivery_id).locator("a[data-action=log]").click()
    expect(page.locator("#log-headline")).to_contain_text("#1003")
    page.click("#edit-resend")
    editor = page.locator("#payload-editor")
    editor.fill('{"order": {"id": 1003, "total": 12}')  # missing brace
    expect(page.locator("#payload-status")).to_contain_text("Not valid JSON")
    expect(page.locator("#resend-form button[type=submit]")).to_be_disabled()
    editor.fill('{"order": {"id": 1003, "total": 12}, "note": "fixed"}')
    expect(page.locator("#payload-status")).to_have_text("Valid JSON.")
    page.click("[data-format-json]")
    screenshot(page, "edit-resend.png")
    page.click("#resend-form button[type=submit]")

    expect(page.locator("#resent-from")).to_contain_text("Resent from")
    expect(page.locator(".alert-success")).to_contain_text("Sent the edited payload as new message")
    new_message = page.locator("#log-headline").evaluate("() => location.pathname")
    assert new_message.startswith("/admin/log/dlv_") and delivery_id not in new_message
    requests = receiver.wait_for(2)
    assert json.loads(requests[1].body) == {"order": {"id": 1003, "total": 12}, "note": "fixed"}
    page.locator("#resent-from a").click()
    expect(page.locator("#resent-as a")).to_have_count(1)
    page.locator("#resent-as a").click()
    expect(page.locator("#resent-from")).to_be_visible()
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "message.resend"))
        assert entry.before == {"payload": {"order.total": 10, "note": None}}
        assert entry.after == {"payload": {"order.total": 12, "note": "fixed"}}
        assert db.session.query(Message).count() == 2


def test_mark_resolved_leaves_the_failed_tab_and_stays_searchable(app, page, sign_in, make_endpoint, receiver,
                                                                  worker):
    make_endpoint(name="Shop")
    (delivery_id,) = deliveries(app, receiver, Reply(400, b"gone"), "failed", [dict(reference="#1004")])
    sign_in(page, "operator")
    pause_refresh(page)
    assert tab_count(page, "failed") == 1
    row(page, delivery_id).locator("a[data-action=log]").click()
    page.fill("#resolve-note", "refunded by hand")
    page.click("#resolve-form button[type=submit]")
    expect(page.locator("#resolution")).to_contain_text("Resolved by operator@example.com")
    expect(page.locator("#resolution")).to_contain_text("refunded by hand")
    page.click("text=Back to the monitor")
    assert (tab_count(page, "failed"), tab_count(page, "resolved"), tab_count(page, "all")) == (0, 1, 1)
    page.click("#status-tabs a[data-tab=failed]")
    expect(page.locator("#no-rows")).to_be_visible()
    page.click("#status-tabs a[data-tab=resolved]")
    expect(row(page, delivery_id).locator("[data-resolved]")).to_be_visible()
    page.fill("#q", "1004")
    page.press("#q", "Enter")
    expect(row(page, delivery_id)).to_have_count(1)


def test_cap_display_and_admin_lift(app, page, new_page, sign_in, make_endpoint, receiver, worker):
    make_endpoint(name="Shop")
    ids = deliveries(app, receiver, Reply(400, b"no"), "failed", [dict(reference=f"#30{n}") for n in range(3)])
    settings(app, retry_hourly_cap=2, retry_cooldown_seconds=0)
    sign_in(page, "operator")
    pause_refresh(page)
    expect(page.locator("#retry-allowance")).to_have_text("2 of 2 retries left this hour")
    for delivery_id in ids[:2]:
        row(page, delivery_id).locator("button[data-action=retry]").click()
        expect(row(page, delivery_id).locator("[data-outcome]")).to_contain_text("HTTP 400", timeout=15_000)
    page.reload()
    expect(page.locator("#retry-allowance")).to_have_text("0 of 2 retries left this hour")
    blocked = row(page, ids[2]).locator("button[data-action=retry]")
    expect(blocked).to_be_disabled()
    assert "bulk actions count once" in blocked.get_attribute("title")

    admin_page = new_page()
    sign_in(admin_page, "admin")
    admin_page.goto("/admin/users/")
    operator_row = admin_page.locator("table.model-list tbody tr", has_text="operator@example.com")
    operator_row.locator("input[name=hours]").fill("2")
    operator_row.locator("button[data-action=lift-cap]").click()
    expect(admin_page.locator(".alert-success")).to_contain_text("Retry cap of operator@example.com lifted until")

    page.reload()
    expect(page.locator("#retry-allowance")).to_contain_text("Retry cap lifted until")
    row(page, ids[2]).locator("button[data-action=retry]").click()
    expect(row(page, ids[2]).locator("[data-outcome]")).to_contain_text("HTTP 400", timeout=15_000)
    with app.app_context():
        assert db.session.query(AuditEntry).filter_by(action="user.lift_cap", actor="admin@example.com").count() == 1


def test_search_finds_order_numbers_any_case_and_bare_shopify_ids(app, page, sign_in, make_endpoint, receiver,
                                                                  worker):
    make_endpoint(name="Shop")
    by_number, by_key, by_shopify_id, other = deliveries(app, receiver, Reply(200), "succeeded", [
        dict(reference="#1005"),
        dict(reference="#1006", idempotency_key="order-1002"),
        dict(reference="#1007", payload={"data": {"shopifyOrderId": "gid://shopify/Order/5551234",
                                                  "qrCode": "QRZ-77"}}),
        dict(reference="#2000")])
    sign_in(page, "viewer")
    for term, expected in (("1005", [by_number]), ("#1005", [by_number]), ("ORDER-1002", [by_key]),
                           ("Order-1002", [by_key]), ("5551234", [by_shopify_id]), ("qrz-77", [by_shopify_id])):
        page.fill("#q", term)
        page.press("#q", "Enter")
        page.wait_for_url(re.compile(r"q="))
        expect(page.locator("#hy-rows tr[data-id]")).to_have_count(len(expected))
        assert listed_ids(page) == expected, term
    assert other


def test_keyboard_shortcuts_and_bulk_bar(app, page, sign_in, make_endpoint, receiver, worker):
    make_endpoint(name="Shop")
    ids = deliveries(app, receiver, Reply(400, b"no"), "failed", [dict(reference=f"#40{n}") for n in range(3)])
    receiver.default = Reply(200)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "operator")
    pause_refresh(page)
    page.keyboard.press("j")
    expect(row(page, ids[2])).to_have_class(re.compile("row-focus"))
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(row(page, ids[2])).to_have_class(re.compile("row-focus"))
    page.keyboard.press("r")  # asks (accepted), then retries in place
    expect(row(page, ids[2]).locator("[data-outcome]")).to_contain_text("succeeded", timeout=15_000)
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#shortcut-help")).to_be_hidden()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.press("Escape")

    expect(page.locator("#bulk-form button[value=retry]")).to_be_disabled()
    for delivery_id in ids[:2]:
        row(page, delivery_id).locator("input.action-checkbox").check()
    expect(page.locator("#bulk-count")).to_have_text("2 selected")
    page.click("#bulk-form button[value=retry]")
    expect(page.locator(".alert-success")).to_contain_text("Retried 2 deliveries.")
    wait_until(lambda: receiver.requests and len(receiver.requests) >= 6, timeout=15)


@pytest.fixture
def populated(app, make_endpoint, receiver, worker):
    """A little of everything, for the page-by-page checks: failed, succeeded, held and resent deliveries."""
    shop = make_endpoint(name="Shop", event_types=["order.*"])
    make_endpoint(name="Billing", event_types=["invoice.*"])
    ok = deliveries(app, receiver, Reply(200), "succeeded", [
        dict(reference=f"#50{n}", tags=[f"QR-{n:04}"], payload={"order": {"id": n}}) for n in range(3)])
    bad = deliveries(app, receiver, Reply(503, b"Service Unavailable", headers={"Retry-After": "3600"}), "pending", [
        dict(event_type="invoice.paid", reference="INV-9", payload={"invoice": 9})])
    failed = deliveries(app, receiver, Reply(422, b'{"error": "unknown sku"}'), "failed", [
        dict(reference="#5009", payload={"order": {"id": 9}})])
    receiver.default = Reply(200)
    send(app, "order.created", {"order": {"id": 10}}, reference="#5010", endpoint_ids=[shop.id])
    with app.app_context():
        from app.delivery.operations.resend import resend_delivery
        resend_delivery(failed[0], {"order": {"id": 9, "sku": "A-1"}}, actor=ADMIN)
    source_id, _ = new_source(app, "shop", "shopify")
    new_event(app, source_id, status=InboundStatus.PROCESSED, handles=["1004"], age_seconds=60)
    inbound = new_event(app, source_id, handles=["1005", "5123"], last_error="RuntimeError: unknown sku", attempts=1)
    return {"ok": ok, "pending": bad, "failed": failed, "endpoint": shop.id, "source": source_id, "inbound": inbound}


def _main_pages(populated):
    log = populated["failed"][0]
    return [("monitor", "/admin/"), ("monitor-failed", "/admin/?status=failed"), ("view-log", f"/admin/log/{log}"),
            ("edit-resend-page", f"/admin/log/{log}/resend"), ("messages", "/admin/messages/"),
            ("endpoints", "/admin/endpoints/"), ("endpoint", f"/admin/endpoints/{populated['endpoint']}"),
            ("jobs", "/admin/jobs/"), ("send-event", "/admin/send-event/"), ("audit", "/admin/audit/"),
            ("users", "/admin/users/"), ("settings", "/admin/settings/"), ("preferences", "/admin/preferences/"),
            ("inbound", "/admin/inbound/"), ("inbound-failed", "/admin/inbound/?source=shop&status=failed"),
            ("inbound-event", f"/admin/inbound/event/{populated['inbound']}"),
            ("inbound-sources", "/admin/inbound-sources/"),
            ("inbound-source", f"/admin/inbound-sources/{populated['source']}"),
            ("inbound-source-new", "/admin/inbound-sources/new")]


def test_main_pages_pass_axe_in_light_and_dark(new_page, sign_in, populated, screenshot):
    for scheme in ("light", "dark"):
        page = new_page(1280, 900, scheme)
        sign_in(page, "admin" if scheme == "light" else "operator")
        for name, url in _main_pages(populated):
            page.goto(url)
            if "403" in page.title() or page.locator("h1:has-text('Not allowed')").count():
                continue  # an operator does not see admin pages; the light run covers them
            found = axe_violations(page)
            assert found == [], f"{scheme} {url}: {found}"
            if scheme == "light":
                screenshot(page, f"{name}.png")
            elif name in ("monitor", "view-log", "inbound", "inbound-event"):
                screenshot(page, f"{name}-dark.png")


#: Script listing the elements that stick out of a 390 px viewport (for a failure's message).
WIDER_THAN_THE_PHONE = """() => Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > 391).slice(0, 5)
    .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def test_monitor_and_view_log_at_390_px_in_dark_mode(new_page, sign_in, populated, screenshot):
    page = new_page(390, 844, "dark")
    sign_in(page, "operator")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(21, 24, 28)"
    expect(page.locator("#monitor-table thead")).to_be_hidden()  # one card per row
    first = page.locator("#hy-rows tr[data-id]").first
    assert first.evaluate("r => getComputedStyle(r).display") == "block"
    expect(first.locator("a[data-action=log]")).to_be_visible()
    # nothing wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 391, page.evaluate(WIDER_THAN_THE_PHONE)
    assert axe_violations(page) == []
    screenshot(page, "monitor-390-dark.png")
    page.goto(f"/admin/log/{populated['failed'][0]}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 391, page.evaluate(WIDER_THAN_THE_PHONE)
    expect(page.locator(".attempt[data-attempt='1'] details")).to_have_attribute("open", "")  # failed: expanded
    assert axe_violations(page) == []
    screenshot(page, "view-log-390-dark.png")

    light = new_page(390, 844, "light")
    sign_in(light, "viewer")
    assert light.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    screenshot(light, "monitor-390.png")
