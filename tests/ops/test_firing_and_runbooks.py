"""Alerts firing now on the overview and the System page, each with the rows behind it and its runbook; a runbook
page per alert kind."""

import pytest

from app.alerts import alert_body
from app.extensions import db
from app.models import AlertState, Endpoint, utcnow
from app.ops.alert_rules import RULES
from app.ops.web_alerts import WEB_RULES
from app.runbooks import RUNBOOKS
from tests.support.factories import update


def fire(app, key, rule, subject, summary):
    with app.app_context():
        db.session.add(AlertState(key=key, rule=rule, subject=subject, firing=True, since=utcnow(), summary=summary))
        db.session.commit()


@pytest.mark.parametrize("page", ["/admin/overview/", "/admin/overview/figures", "/admin/system/"])
def test_firing_alerts_show_what_since_when_the_rows_and_the_runbook(app, client, staff, make_endpoint, page):
    staff("viewer")
    fire(app, "backlog:backlog", "backlog", "backlog", "the oldest pending delivery is 20.0 min overdue")
    endpoint = make_endpoint(name="OnlyPerf")
    update(app, Endpoint, endpoint.id, consecutive_failures=7, failing_since=utcnow())
    html = client.get(page).get_data(as_text=True)
    section = html.split('id="firing-alerts"')[1].split("</section>")[0]
    assert 'data-firing="backlog"' in section and "20.0 min overdue" in section and "since" in section
    assert 'href="/admin/?status=pending"' in section and 'href="/admin/runbooks/backlog"' in section
    assert 'data-firing="endpoint_failing"' in section and "OnlyPerf: 7 attempts in a row failed" in section
    assert f'href="/admin/?endpoint_id={endpoint.id}&amp;status=failed"' in section
    assert 'href="/admin/runbooks/endpoint_failing"' in section


def test_nothing_firing_says_so(client, staff):
    staff("viewer")
    html = client.get("/admin/overview/").get_data(as_text=True)
    assert "Nothing is firing." in html


def test_a_recovered_alert_is_no_longer_firing(app, client, staff):
    staff("viewer")
    fire(app, "no_worker:workers", "no_worker", "workers", "Workers: no worker heartbeat for 2 min")
    assert 'data-firing="no_worker"' in client.get("/admin/system/").get_data(as_text=True)
    update(app, AlertState, "no_worker:workers", firing=False)
    assert 'data-firing="no_worker"' not in client.get("/admin/system/").get_data(as_text=True)


def test_every_alert_kind_has_a_runbook_page(client, staff):
    staff("viewer")
    kinds = {rule.name for rule in RULES + WEB_RULES} | {"endpoint_failing", "endpoint_disabled", "final_failure"}
    assert kinds <= set(RUNBOOKS)
    for kind in kinds:
        html = client.get(f"/admin/runbooks/{kind}").get_data(as_text=True)
        assert f'data-runbook="{kind}"' in html
        for heading in ("What it means", "What to check", "What to do"):
            assert heading in html
    assert all(f'data-runbook-link="{kind}"' in client.get("/admin/runbooks/").get_data(as_text=True)
               for kind in kinds)
    assert client.get("/admin/runbooks/nope").status_code == 404


def test_the_banner_links_each_troubled_endpoint_to_its_runbook(app, client, staff, make_endpoint):
    staff("viewer")
    endpoint = make_endpoint()
    update(app, Endpoint, endpoint.id, consecutive_failures=9, failing_since=utcnow())
    html = client.get("/admin/endpoints/").get_data(as_text=True)
    banner = html.split('id="hy-summary"')[1].split("</details>")[0]
    assert 'href="/admin/runbooks/endpoint_failing"' in banner


def test_endpoint_alerts_link_their_runbook(app, make_endpoint):
    app.config["PUBLIC_URL"] = "https://hooks.example.com"
    endpoint = make_endpoint()
    with app.app_context():
        body = alert_body("disabled", db.session.get(Endpoint, endpoint.id), "410 Gone")
    assert body["runbook"] == "https://hooks.example.com/admin/runbooks/endpoint_disabled"
