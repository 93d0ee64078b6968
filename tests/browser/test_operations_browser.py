"""The System and Settings pages in a real browser (and the pictures of them in docs/screenshots)."""

from datetime import timedelta

import pytest
from flask_babel import lazy_gettext as _l
from playwright.sync_api import expect

from app.audit import SYSTEM, record
from app.extensions import db
from app.models import WorkerHeartbeat, utcnow
from app.ops.periodic import PeriodicJob, run_if_due
from app.ops.schedule import take_snapshot

pytestmark = pytest.mark.browser


def seed_system(app):
    """Two worker processes alive, one on an older version, a snapshot taken and an alert in the history."""
    with app.app_context():
        now = utcnow()
        for pid, version in ((4211, "3f04ff9c1a2b"), (4212, "aca5df33dafe")):
            db.session.add(WorkerHeartbeat(id=f"worker.1:{pid}:1", host="worker.1", pid=pid, version=version,
                                           threads=8, queues=["alerts", "jobs", "webhooks"],
                                           started_at=now - timedelta(hours=3), last_seen_at=now))
        record(SYSTEM, "alert.fired", _l("%(rule)s fired: %(summary)s", rule="Success rate",
                                         summary="Endpoint Warehouse: 62.5 % of 40 attempts succeeded in the last 60 "
                                                 "min (alert under 90 %, from 20 attempts)"), target_type="alert",
               after={"link": "/admin/?endpoint_id=ep_1&status=failed"})
        db.session.commit()
        run_if_due(PeriodicJob("snapshot", take_snapshot))


def test_the_system_page_shows_workers_versions_queues_and_alerts(app, page, sign_in, screenshot):
    app.config["SOURCE_VERSION"] = "aca5df33dafe"
    seed_system(app)
    sign_in(page, "viewer")
    page.get_by_role("link", name="System", exact=True).click()
    expect(page.locator("#workers-alive")).to_have_text("2")
    expect(page.locator("[data-warning=version-drift]")).to_contain_text("workers run 3f04ff9c1a2b")
    expect(page.locator("#alert-history")).to_contain_text("Endpoint Warehouse: 62.5 %")
    expect(page.locator("[data-run=snapshot]")).to_contain_text("succeeded")
    screenshot(page, "system.png")


def test_the_settings_page_saves_the_30_day_retention_with_its_warning(app, page, sign_in, screenshot):
    sign_in(page, "admin")
    page.goto("/admin/settings/")
    page.select_option("#payload_retention_days", "30")
    page.fill("#alert_email_to", "ops@example.com, oncall@example.com")
    page.fill("#alert_success_rate_percent", "95")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Settings saved.")
    expect(page.locator("[data-help=payload_retention_days]")).to_contain_text("Payloads are kept 30 days.")
    expect(page.locator("#alert_email_to")).to_have_value("ops@example.com, oncall@example.com")
    screenshot(page, "settings.png")
