"""The overview in a real browser: every figure it shows equals a count taken from the database.

Data is made through the product (endpoints pointing at the test receiver, messages sent with send(), the
in-process worker attempting them); the expected figures are plain SQL written here, not the overview's
own queries.
"""

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import bindparam, text

from app.audit import Actor
from app.delivery.operations.deliveries import cancel_delivery
from app.extensions import db
from app.staff.settings import set_setting
from tests.support.factories import send
from tests.support.receiver import Reply, closed_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

#: A receiver answer that leaves a delivery pending, its next attempt an hour away.
LATER = Reply(503, b"maintenance", headers={"Retry-After": "3600"})

#: Everything the overview shows, read in one go so a refresh cannot land between two readings.
READ_FIGURES = """() => {
  const root = document.getElementById("overview-figures");
  const card = name => {
    const el = root.querySelector(`[data-figure=${name}]`);
    return {value: el.querySelector("[data-value]").textContent.trim(),
            detail: el.querySelector(".kpi-detail").textContent.trim(),
            href: (el.querySelector("a") || {}).href || null};
  };
  const cards = {};
  for (const el of root.querySelectorAll("[data-figure]")) cards[el.dataset.figure] = card(el.dataset.figure);
  const chart = {};
  for (const cell of root.querySelectorAll("#deliveries-table td[data-status]"))
    chart[cell.dataset.status] = (chart[cell.dataset.status] || 0) + Number(cell.textContent);
  const attempts = [...root.querySelectorAll("#latency-table td[data-attempts]")]
    .reduce((sum, cell) => sum + Number(cell.textContent), 0);
  const groups = [...root.querySelectorAll("#top-errors tr[data-group]")].map(tr => ({
    endpoint: tr.dataset.endpointId, error: tr.dataset.errorClass, status: tr.dataset.httpStatus,
    count: Number(tr.querySelector("[data-count]").textContent.replace(/,/g, "")),
  }));
  return {asOf: root.dataset.asOf, chartStart: root.dataset.chartStart, cards, chart, attempts, groups,
          bars: root.querySelectorAll("#deliveries-chart g.bar").length};
}"""


def settle(app, receiver, reply, status, messages):
    """Send messages while the receiver answers reply; wait until the worker leaves each in status."""
    receiver.default = reply
    ids = [i for message in messages for i in send(app, **message)[1]]

    def settled():
        found = rows(app, "SELECT status, attempt_count FROM deliveries WHERE id IN :ids", ids=ids)
        return len(found) == len(ids) and all(s == status and n >= 1 for s, n in found)

    wait_until(settled, timeout=20)
    return ids


@pytest.fixture
def traffic(app, make_endpoint, receiver, worker):
    """Three endpoints; deliveries succeeded, failed three ways, pending and cancelled."""
    make_endpoint(name="Shop", event_types=["order.*"])
    make_endpoint(name="Billing", event_types=["invoice.*"], max_attempts=1)
    make_endpoint(f"http://127.0.0.1:{closed_port()}/hooks", name="Legacy CRM", event_types=["customer.*"],
                  max_attempts=1)
    def messages(event_type, count):
        return [dict(event_type=event_type, payload={"n": n}) for n in range(count)]

    settle(app, receiver, Reply(200), "succeeded", messages("order.created", 4))
    settle(app, receiver, Reply(500, b"boom"), "failed", messages("invoice.paid", 3))
    settle(app, receiver, Reply(422, b"unknown sku"), "failed", messages("order.created", 2))
    settle(app, receiver, Reply(200), "failed", messages("customer.updated", 1))  # nothing listens on its port
    pending = settle(app, receiver, LATER, "pending", messages("order.paid", 2))
    with app.app_context():
        cancel_delivery(pending[-1])
    receiver.default = Reply(200)


def scalar(app, sql, **params):
    with app.app_context():
        value = db.session.execute(text(sql), params).scalar()
        db.session.rollback()
        return value


def rows(app, sql, **params):
    statement = text(sql)
    if "ids" in params:
        statement = statement.bindparams(bindparam("ids", expanding=True))
    with app.app_context():
        found = db.session.execute(statement, params).all()
        db.session.rollback()
        return found


def percentile(values, share):
    """PostgreSQL's percentile_cont, written out: linear interpolation between the closest ranks."""
    values = sorted(values)
    position = share * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (position - low))


def listed_rows(page):
    """The monitor's delivery rows."""
    return page.locator("table.model-list tbody tr").filter(has=page.locator("span.badge[data-status]"))


def number(text_value):
    return int(text_value.replace(",", ""))


def attempts_since(app, since):
    """(attempts, succeeded) started at or after since."""
    return tuple(rows(app, "SELECT count(*), sum(CASE WHEN error_class IS NULL THEN 1 ELSE 0 END) "
                           "FROM delivery_attempts WHERE started_at >= :since AND trigger != 'test'", since=since)[0])


def test_overview_figures_equal_database_counts(app, page, sign_in, traffic, screenshot):
    sign_in(page, "operator")
    page.goto("/admin/overview/")
    shown = page.evaluate(READ_FIGURES)
    now = datetime.fromisoformat(shown["asOf"])
    cards = shown["cards"]

    for name, since in (("success_1h", now - timedelta(hours=1)), ("success_24h", now - timedelta(hours=24))):
        attempts, succeeded = attempts_since(app, since)
        assert cards[name]["detail"] == f"{succeeded} of {attempts} attempts succeeded"
        assert cards[name]["value"] == f"{round(100 * succeeded / attempts, 1)} %"
    assert number(cards["failed_1h"]["value"]) == scalar(
        app, "SELECT count(*) FROM deliveries WHERE status = 'failed' AND resolved_at IS NULL "
             "AND last_attempt_at >= :since",
        since=now - timedelta(hours=1)) == 6
    assert number(cards["pending"]["value"]) == scalar(app, "SELECT count(*) FROM deliveries WHERE status = 'pending'")
    assert number(cards["endpoints_active"]["value"]) == scalar(
        app, "SELECT count(*) FROM endpoints WHERE state = 'enabled' AND deleted_at IS NULL") == 3
    assert number(cards["endpoints_failing"]["value"]) == scalar(
        app, "SELECT count(*) FROM endpoints WHERE state = 'enabled' AND deleted_at IS NULL "
             "AND consecutive_failures >= :threshold", threshold=app.config["WEBHOOK_BREAKER_THRESHOLD"])
    durations = [r[0] for r in rows(app, "SELECT duration_ms FROM delivery_attempts WHERE started_at >= :since "
                                         "AND trigger != 'test'", since=now - timedelta(hours=24))]
    assert cards["p95_24h"]["value"] == f"{percentile(durations, 0.95):,} ms"

    by_status = dict(rows(app, "SELECT CASE status WHEN 'sending' THEN 'pending' ELSE status END, count(*) "
                               "FROM deliveries WHERE created_at >= :start GROUP BY 1",
                          start=datetime.fromisoformat(shown["chartStart"])))
    assert {status: n for status, n in shown["chart"].items() if n} == by_status
    assert shown["attempts"] == len(durations) and shown["bars"] >= 1

    groups = rows(app, "SELECT endpoint_id, last_error_class, coalesce(CAST(last_response_status AS VARCHAR(3)), "
                       "'none'), count(*) FROM deliveries WHERE status = 'failed' AND resolved_at IS NULL "
                       "GROUP BY 1, 2, 3")
    assert sorted((g["endpoint"], g["error"], g["status"], g["count"]) for g in shown["groups"]) == sorted(
        tuple(g) for g in groups)
    assert shown["groups"][0]["count"] == 3  # the largest group comes first
    screenshot(page, "overview.png")


def test_see_the_group_and_the_failed_card_open_the_rows_they_count(page, sign_in, traffic):
    sign_in(page, "operator")
    page.goto("/admin/overview/")
    largest = page.locator("#top-errors tr[data-group]").first
    expect(largest.locator("[data-count]")).to_have_text("3")
    largest.locator("a[data-see-group]").click()
    page.wait_for_url(re.compile(r"/admin/\?.*status=failed"))
    expect(listed_rows(page)).to_have_count(3)

    page.goto("/admin/overview/")
    page.locator("#top-errors tr[data-group]").first.locator("a[data-retry-group]").click()
    expect(page.locator("[data-count]")).to_have_text("3")  # the confirmation states the exact count

    page.goto("/admin/overview/")
    page.locator("[data-figure=failed_1h] a").click()
    page.wait_for_url(re.compile(r"attempted_since="))
    expect(listed_rows(page)).to_have_count(6)


def test_the_figures_refresh_in_place(app, page, sign_in, traffic, receiver):
    with app.app_context():
        set_setting("refresh_seconds", 5, actor=Actor("admin@example.com"))
    sign_in(page, "viewer")
    page.goto("/admin/overview/")
    page.evaluate("window.notReloaded = true")
    expect(page.locator("[data-figure=failed_1h] [data-value]")).to_have_text("6")
    expect(page.locator("#overview-pause")).to_have_attribute("aria-pressed", "false")

    settle(app, receiver, Reply(500, b"boom"), "failed", [dict(event_type="invoice.paid", payload={"n": 9})])
    expect(page.locator("[data-figure=failed_1h] [data-value]")).to_have_text("7", timeout=15_000)
    assert page.evaluate("window.notReloaded === true")  # swapped in place, not a page reload
    expect(page.locator("#overview-status")).to_contain_text("Figures updated")

    page.click("#overview-pause")
    expect(page.locator("#overview-pause")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#overview-pause")).to_have_text("Resume auto-refresh")
