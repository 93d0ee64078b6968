"""Alerts firing now and the runbooks in a real browser, reviewed at 1280 and 390 px, light and dark: the overview says
what fires, since when, and links the rows and the runbook; a runbook page reads without scrolling sideways."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import AlertState, utcnow
from tests.browser.conftest import LOOKS, review_in_every_look

pytestmark = pytest.mark.browser


@pytest.fixture
def backlog_firing(app):
    with app.app_context():
        db.session.add(AlertState(key="backlog:backlog", rule="backlog", subject="backlog", firing=True,
                                  since=utcnow(), summary="the oldest pending delivery is 20.0 min overdue "
                                                          "(alert from 15 min); are the workers running?"))
        db.session.commit()


def test_the_overview_shows_what_fires_and_leads_to_its_runbook(new_page, sign_in, backlog_firing, screenshot):
    page = new_page(*LOOKS[0])
    sign_in(page, "viewer")
    page.goto("/admin/overview/")
    alert = page.locator('#firing-alerts [data-firing="backlog"]')
    expect(alert).to_contain_text("Backlog")
    expect(alert).to_contain_text("20.0 min overdue")
    expect(alert).to_contain_text("since")
    expect(alert.locator("[data-firing-rows]")).to_have_attribute("href", "/admin/?status=pending")
    review_in_every_look(page, screenshot, "overview-firing")
    alert.locator("[data-runbook]").click()
    page.wait_for_url("**/admin/runbooks/backlog")
    expect(page.locator("#runbook h1")).to_have_text("Backlog")
    expect(page.locator("#runbook-do li").first).to_be_visible()
    review_in_every_look(page, screenshot, "runbook")


def test_the_system_page_lists_the_firing_alerts(new_page, sign_in, backlog_firing):
    page = new_page(*LOOKS[0])
    sign_in(page, "viewer")
    page.goto("/admin/system/")
    expect(page.locator('#firing-alerts [data-firing="backlog"] [data-runbook]')).to_have_attribute(
        "href", "/admin/runbooks/backlog")
    review_in_every_look(page)


def test_the_chart_range_switches_and_survives_the_refresh(new_page, sign_in):
    page = new_page(*LOOKS[0])
    sign_in(page, "viewer")
    page.goto("/admin/overview/")
    page.locator('#chart-range [data-range="7d"]').click()
    page.wait_for_url("**/admin/overview/?range=7d")
    expect(page.locator('#chart-range [data-range="7d"]')).to_have_attribute("aria-current", "page")
    expect(page.locator("#deliveries-chart-heading")).to_have_text("Deliveries created per hour, by current status")
    expect(page.locator("#overview-figures")).to_have_attribute("hx-get", "/admin/overview/figures?range=7d")
    review_in_every_look(page)
