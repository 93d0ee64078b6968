import json
import re
from datetime import timedelta

from sqlalchemy import delete, select

import tasks.alerts  # noqa: F401  declares the alerts actor
from app.extensions import db
from app.inbound.processing import process_event
from app.models import InboundCount, InboundSource, InboundStatus
from app.ops.alert_rules import evaluate_rules
from tests.inbound import signing
from tests.inbound.sources_helpers import BODY, new_event, new_source


def evaluate(app, broker, worker):
    with app.app_context():
        changes = evaluate_rules()["changes"]
    broker.join("alerts")
    worker.join()
    return sorted((c["key"].split(":")[0], c["change"]) for c in changes)


def alerted(app, source_id):
    with app.app_context():
        return db.session.get(InboundSource, source_id).alerted


def age_counts(app, hours):
    with app.app_context():
        rows = [(r.source_name, r.hour_start, r.kind, r.count) for r in db.session.scalars(select(InboundCount))]
        db.session.execute(delete(InboundCount))
        db.session.add_all(InboundCount(source_name=name, hour_start=hour - timedelta(hours=hours), kind=kind,
                                        count=count) for name, hour, kind, count in rows)
        db.session.commit()


def banner(client):
    html = client.get("/admin/").get_data(as_text=True)
    return re.sub(r"\s+", " ", html) if 'data-banner="summary"' in html else None


def test_a_failing_source_fires_once_with_a_banner_then_recovers(
        app, client, staff, handlers, alerts, broker, worker):  # noqa: F811
    notified, smtp = alerts
    app.config.update(INBOUND_ALERT_FAILURES=3, INBOUND_MAX_ATTEMPTS=1, PUBLIC_URL="https://hooks.example.com")

    @handlers()
    def broken(event, payload):
        raise RuntimeError("warranty service down")

    source_id, _ = new_source(app)
    for _ in range(3):
        event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
        with app.app_context():
            assert process_event(event_id, "received").status is InboundStatus.FAILED
    staff("viewer")
    assert banner(client) is None

    assert evaluate(app, broker, worker) == [("inbound_failing", "fired")]
    assert evaluate(app, broker, worker) == []
    (fired,) = [json.loads(r.body) for r in notified.requests]
    assert fired["type"] == "rule.fired" and "3 processings failed" in fired["summary"]
    assert fired["link"] == "https://hooks.example.com/admin/inbound/?source=shop&status=failed"
    assert len(smtp.messages) == 1
    assert alerted(app, source_id) == "failing"
    html = banner(client)
    assert "1 inbound source failing" in html
    assert '<a href="/admin/inbound/?source=shop&amp;status=failed" data-banner="source-failing">shop</a>' in html
    assert '<a href="/admin/runbooks/inbound_failing" data-runbook>what to do</a>' in html

    age_counts(app, 3)  # the failures are older than the last hour
    assert evaluate(app, broker, worker) == [("inbound_failing", "recovered")]
    assert alerted(app, source_id) is None
    assert banner(client) is None
    assert [json.loads(r.body)["type"] for r in notified.requests] == ["rule.fired", "rule.recovered"]


def test_a_burst_of_bad_signatures_fires_the_rejecting_alert(app, client, staff, alerts, broker, worker):
    notified, _ = alerts
    app.config.update(INBOUND_ALERT_REJECTIONS=5)
    source_id, _ = new_source(app, name="shop", secret="shpss_the-right-secret")
    new_source(app, name="quiet")
    for n in range(5):
        headers = signing.shopify("shpss_a-wrong-secret", BODY, webhook_id=f"wh-{n}")
        assert client.post("/inbound/shop", data=BODY, headers=headers).status_code == 401

    assert evaluate(app, broker, worker) == [("inbound_rejecting", "fired")]
    (fired,) = [json.loads(r.body) for r in notified.requests]
    assert fired["link"].endswith("/admin/inbound-sources/") and "5 requests refused" in fired["summary"]
    assert alerted(app, source_id) == "rejecting"
    staff("viewer")
    html = banner(client)
    assert ('1 inbound source rejecting (<a href="/admin/inbound-sources/" data-banner="source-rejecting">shop</a>; '
            '<a href="/admin/runbooks/inbound_rejecting" data-runbook>what to do</a>)') in html

    age_counts(app, 3)
    assert evaluate(app, broker, worker) == [("inbound_rejecting", "recovered")]
    assert alerted(app, source_id) is None
