"""The sync monitor in a real browser: sign in, tabs and filters, retry one, bulk retry, View log, roles.

Data is made through the product itself: endpoints pointing at the test receiver, messages sent with
send(), and the in-process worker attempting them while the receiver answers as each test needs.
"""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.delivery.operations.deliveries import cancel_delivery
from app.extensions import db
from app.models import Delivery
from tests.support.factories import send
from tests.support.receiver import Reply, closed_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

#: A receiver answer that leaves a delivery pending, its next attempt an hour away.
LATER = Reply(503, b"maintenance", headers={"Retry-After": "3600"})


def statuses(app, ids):
    """{delivery id: (status, attempt count)}, read from the database."""
    with app.app_context():
        rows = db.session.execute(select(Delivery.id, Delivery.status, Delivery.attempt_count)
                                  .where(Delivery.id.in_(ids))).all()
        return {row.id: (row.status.value, row.attempt_count) for row in rows}


def wait_for_status(app, ids, status, timeout=20.0):
    """Wait until the worker has attempted every delivery at least once and left it in status."""
    def settled():
        current = statuses(app, ids)
        return len(current) == len(ids) and all(s == status and n >= 1 for s, n in current.values())

    wait_until(settled, timeout, message=lambda: f"expected every delivery {status}, got {statuses(app, ids)}")


def deliveries(app, receiver, reply, status, messages):
    """Send messages (dicts of send() arguments) while the receiver answers reply; wait until the worker
    leaves each delivery in status. Return the delivery ids in sending order."""
    receiver.default = reply
    ids = []
    for message in messages:
        _, delivery_ids = send(app, **message)
        ids.extend(delivery_ids)
    wait_for_status(app, ids, status)
    return ids


@pytest.fixture
def mixed(app, make_endpoint, receiver, worker):
    """A realistic monitor: three endpoints, ten deliveries in every status, failures of three kinds."""
    make_endpoint(name="Shop", event_types=["order.*"])
    make_endpoint(name="Billing", event_types=["invoice.*"])
    make_endpoint(f"http://127.0.0.1:{closed_port()}/hooks", name="Legacy CRM", event_types=["customer.*"],
                  max_attempts=2)
    ids = {}
    ids["succeeded"] = deliveries(app, receiver, Reply(200), "succeeded", [
        dict(event_type="order.created", payload={"order": n}, reference=f"#10{n:02}", tags=[f"QR-{n:04}"])
        for n in (1, 2, 3)])
    ids["rejected"] = deliveries(app, receiver, Reply(422, b'{"error": "unknown sku"}'), "failed", [
        dict(event_type="order.created", payload={"order": n}, reference=f"#10{n:02}") for n in (4, 5)])
    ids["broken"] = deliveries(app, receiver, Reply(500, b"Internal Server Error"), "failed", [
        dict(event_type="invoice.paid", payload={"invoice": "INV-7"}, reference="INV-7")])
    ids["unreachable"] = deliveries(app, receiver, Reply(200), "failed", [
        dict(event_type="customer.updated", payload={"customer": 42}, reference="C-42")])
    ids["pending"] = deliveries(app, receiver, LATER, "pending", [
        dict(event_type="invoice.paid", payload={"invoice": f"INV-{n}"}, reference=f"INV-{n}") for n in (8, 9, 10)])
    with app.app_context():
        cancel_delivery(ids["pending"][-1])
    ids["cancelled"] = [ids["pending"].pop()]
    receiver.default = Reply(200)  # the receiver has recovered: retries from now on succeed
    return ids


def tab_count(page, tab):
    return int(page.locator(f"#status-tabs a[data-tab={tab}] [data-count]").inner_text())


def listed_rows(page):
    """The monitor's delivery rows (not the "no items" row)."""
    return page.locator("table.model-list tbody tr").filter(has=page.locator("span.badge[data-status]"))


def row(page, delivery_id):
    return page.locator(f'#hy-rows tr[data-id="{delivery_id}"]')


def badges(page):
    return listed_rows(page).locator("span.badge[data-status]")


def pause_refresh(page):
    page.click("#refresh-toggle")
    expect(page.locator("#refresh-toggle")).to_have_text("Resume auto-refresh")
    expect(page.locator("#refresh-label")).to_have_text("Auto-refresh paused")


def test_operator_signs_in_and_sees_the_monitor(page, sign_in, mixed, screenshot):
    page.goto("/admin/")
    page.fill("#email", "nobody@example.com")
    page.fill("#password", "not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".alert")).to_have_text("Wrong email or password.")

    sign_in(page, "operator")
    expect(page.locator("#user-menu")).to_contain_text("operator@example.com")
    expect(page.locator("#refresh-label")).to_have_text(re.compile(r"Refreshing in \d+ s"))
    expect(listed_rows(page)).to_have_count(10)
    assert {tab: tab_count(page, tab) for tab in ("all", "failed", "pending", "succeeded", "cancelled")} == {
        "all": 10, "failed": 4, "pending": 2, "succeeded": 3, "cancelled": 1}
    shown = badges(page).evaluate_all("els => els.map(e => e.dataset.status)")
    assert sorted(shown) == sorted(["succeeded"] * 3 + ["failed"] * 4 + ["pending"] * 2 + ["cancelled"])
    expect(row(page, mixed["rejected"][0])).to_contain_text("#1004")
    expect(row(page, mixed["unreachable"][0])).to_contain_text("Legacy CRM")
    expect(page.locator("#retry-matching")).to_be_visible()
    screenshot(page, "monitor.png")
    pause_refresh(page)
    page.reload()
    expect(page.locator("#refresh-label")).to_have_text("Auto-refresh paused")  # remembered by the browser


def test_failed_tab_and_filters_show_only_matching_rows(page, sign_in, mixed):
    sign_in(page, "operator")
    pause_refresh(page)
    page.click("#status-tabs a[data-tab=failed]")
    page.wait_for_url(re.compile(r"status=failed"))
    expect(page.locator("#status-tabs a[data-tab=failed]")).to_have_class(re.compile(r"\bactive\b"))
    expect(listed_rows(page)).to_have_count(tab_count(page, "failed"))
    assert tab_count(page, "failed") == 4 and tab_count(page, "all") == 10
    assert set(badges(page).evaluate_all("els => els.map(e => e.dataset.status)")) == {"failed"}

    # The filter form narrows the failed tab further; the tab counts follow the filter, not the tab.
    page.select_option("#monitor-filters select[name=endpoint_id]", label="Shop")
    page.click("#monitor-filters button[type=submit]")
    page.wait_for_url(re.compile(r"endpoint_id=ep_"))
    assert "status=failed" in page.url  # the tab is kept
    expect(listed_rows(page)).to_have_count(2)
    assert (tab_count(page, "all"), tab_count(page, "failed"), tab_count(page, "succeeded")) == (5, 2, 3)
    for delivery_id in mixed["rejected"]:
        expect(row(page, delivery_id).locator("span.badge[data-status]")).to_have_attribute("data-status", "failed")

    page.select_option("#monitor-filters select[name=endpoint_id]", "")
    page.fill("#monitor-filters input[name=http_status]", "5xx")
    page.click("#monitor-filters button[type=submit]")
    page.wait_for_url(re.compile(r"http_status=5xx"))
    expect(listed_rows(page)).to_have_count(1)
    expect(row(page, mixed["broken"][0])).to_contain_text("INV-7")
    # The cancelled delivery had answered 503 too, before it was cancelled.
    assert [tab_count(page, tab) for tab in ("all", "failed", "pending", "succeeded", "cancelled")] == [4, 1, 2, 0, 1]

    page.click("#monitor-filters a:has-text('Clear')")
    page.wait_for_url(re.compile(r"/admin/$"))
    page.select_option("#monitor-filters select[name=error_class]", "connection")
    page.click("#monitor-filters button[type=submit]")
    expect(listed_rows(page)).to_have_count(1)
    expect(row(page, mixed["unreachable"][0])).to_contain_text("Legacy CRM")


def test_retry_outcome_appears_in_place(app, page, sign_in, mixed, receiver):
    target = mixed["rejected"][0]
    sign_in(page, "operator")
    pause_refresh(page)
    page.click("#status-tabs a[data-tab=failed]")
    page.wait_for_url(re.compile(r"status=failed"))
    url_before, before = page.url, len(receiver.requests)
    expect(row(page, target).locator("td[data-http]")).to_have_text("422")
    expect(row(page, target).locator(".col-error")).to_contain_text("HTTP 422")

    row(page, target).locator("button[data-action=retry]").click()
    # No page load: the row itself answers, then follows the attempt until it lands.
    expect(row(page, target).locator("[data-note]")).to_contain_text("Retried 1 delivery.")
    outcome = row(page, target).locator("[data-outcome]")
    expect(outcome).to_have_attribute("data-outcome", "succeeded", timeout=15_000)
    expect(outcome).to_contain_text("Attempt #2: succeeded, HTTP 200")
    expect(row(page, target).locator("span.badge[data-status]")).to_have_attribute("data-status", "succeeded")
    assert page.url == url_before and len(receiver.requests) == before + 1
    expect(row(page, target).locator("button[data-action=retry]")).to_have_count(0)  # now only Replay

    outcome.get_by_role("link", name="see it").click()
    page.wait_for_url(re.compile(rf"/admin/log/{target}#attempt-2$"))
    expect(page.locator(".attempt[data-attempt='2']")).to_contain_text("manual by operator@example.com")
    page.go_back()
    page.reload()  # the browser may show its cached copy of the list, from before the retry
    expect(page.locator("#status-tabs a[data-tab=failed] [data-count]")).to_have_text("3")
    assert tab_count(page, "succeeded") == 4


def test_bulk_retry_confirms_the_count_and_shows_progress(app, page, sign_in, make_endpoint, receiver, worker,
                                                          screenshot):
    make_endpoint(name="Shop", event_types=["order.*"])
    failed = deliveries(app, receiver, Reply(400, b"bad request"), "failed", [
        dict(event_type="order.created", payload={"order": n}, reference=f"#20{n:02}") for n in range(30)])
    (succeeded,) = deliveries(app, receiver, Reply(200), "succeeded", [dict(event_type="order.created")])

    sign_in(page, "operator")
    pause_refresh(page)
    page.click("#status-tabs a[data-tab=failed]")
    assert tab_count(page, "failed") == 30
    page.click("#retry-matching")
    page.wait_for_url(re.compile(r"/admin/jobs/retry-matching"))
    confirm = page.locator("#confirm-retry")
    expect(confirm.locator("[data-count]")).to_have_text("30")
    expect(confirm).to_contain_text("This will retry 30 failed deliveries")

    confirm.get_by_role("button", name="Retry 30 deliveries").click()
    page.wait_for_url(re.compile(r"/admin/jobs/job_\w+$"))
    expect(page.locator("#job-progress")).to_have_attribute("data-status", "done", timeout=20_000)
    expect(page.locator("#job-done")).to_have_text("30")
    expect(page.locator("#job-total")).to_have_text("30")
    expect(page.locator("#job-bar")).to_have_text("100%")
    expect(page.locator("#job-summary")).to_be_visible()
    expect(page.locator("#job-summary")).to_have_text("Done: retried 30 of 30. Nothing was skipped.")
    page.wait_for_function("""() => {  // the bar's width animates; let it finish before the screenshot
        const bar = document.getElementById('job-bar');
        return bar.getBoundingClientRect().width >= bar.parentElement.getBoundingClientRect().width - 1;
    }""")
    screenshot(page, "bulk-progress.png")

    wait_for_status(app, failed, "succeeded")
    assert statuses(app, [succeeded])[succeeded] == ("succeeded", 1)  # not part of the job
    assert len(receiver.requests) == 30 + 1 + 30
    page.click("text=Back to the monitor")
    assert (tab_count(page, "failed"), tab_count(page, "succeeded")) == (0, 31)
    expect(page.locator("#retry-matching")).to_have_count(0)


def test_view_log_shows_a_script_payload_as_text(app, page, sign_in, make_endpoint, receiver, worker, screenshot):
    make_endpoint(name="Shop", event_types=["order.*"], signing_scheme="shared-secret")
    (delivery_id,) = deliveries(app, receiver, Reply(400, b"<b>rejected</b><script>alert(2)</script>"), "failed", [
        dict(event_type="order.created", payload={"note": "<script>alert(1)</script>", "order": 1001},
             reference="#1001", tags=["<img src=x onerror=alert(3)>"])])
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    sign_in(page, "operator")
    pause_refresh(page)
    row(page, delivery_id).locator("a[data-action=log]").click()
    page.wait_for_url(re.compile(rf"/admin/log/{delivery_id}"))
    payload = page.locator("pre#payload")
    expect(payload).to_contain_text('"note": "<script>alert(1)</script>"')
    expect(payload.locator("script")).to_have_count(0)
    attempt = page.locator(".attempt[data-attempt='1']")
    expect(attempt.locator("details")).to_have_attribute("open", "")  # a failed attempt opens expanded
    expect(attempt.locator("pre.payload")).to_have_text("<b>rejected</b><script>alert(2)</script>")
    expect(attempt).to_contain_text("X-Webhook-Secret")
    expect(attempt).to_contain_text("••••••••")
    expect(page.locator("dd .badge", has_text="<img src=x onerror=alert(3)>")).to_have_count(1)
    assert page.locator("#attempts script, img[src=x]").count() == 0
    page.wait_for_timeout(300)  # time for anything injected to have run
    screenshot(page, "view-log.png")
    assert dialogs == []


def test_a_viewer_sees_no_retry_or_cancel_buttons(page, sign_in, mixed):
    sign_in(page, "viewer")
    expect(page.locator("#user-menu")).to_contain_text("viewer")
    expect(listed_rows(page)).to_have_count(10)
    expect(page.locator("a[data-action=log]")).to_have_count(10)
    expect(page.locator("button[data-action=retry]")).to_have_count(0)
    expect(page.locator("button[data-action=cancel]")).to_have_count(0)
    expect(page.locator("#retry-matching")).to_have_count(0)
    expect(page.locator("input.action-checkbox")).to_have_count(0)

    page.click("#status-tabs a[data-tab=pending]")
    expect(listed_rows(page)).to_have_count(2)
    expect(page.locator("button[data-action]")).to_have_count(0)
    row(page, mixed["pending"][0]).locator("a[data-action=log]").click()
    expect(page.locator("pre#payload")).to_contain_text("INV-8")
    expect(page.locator("button[data-action]")).to_have_count(0)
