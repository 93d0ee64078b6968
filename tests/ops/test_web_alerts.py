"""The alerts the web process raises, with no worker running: no worker alive, inbound events left unprocessed, a
source silent past its window. Their notices go out from the web process itself, not through the alerts queue."""

import json
from datetime import timedelta

from app.extensions import db
from app.models import AlertState, InboundSource, InboundStatus, PeriodicRun, SourceState, WorkerHeartbeat, utcnow
from app.ops import heartbeat
from app.ops.web_alerts import evaluate_web_rules
from app.ops.web_watch import WebWatch
from tests.inbound.sources_helpers import new_event, new_source
from tests.support.factories import queued_messages, update


def evaluate(app):
    with app.app_context():
        return {c["key"]: c["change"] for c in evaluate_web_rules()["changes"]}


def firing(app):
    with app.app_context():
        return sorted(s.key for s in db.session.query(AlertState).filter_by(firing=True))


def test_no_worker_heartbeat_fires_from_the_web_process_and_its_notice_goes_at_once(app, alerts, broker):
    notified, smtp = alerts
    app.config["PUBLIC_URL"] = "https://hooks.example.com"
    assert evaluate(app) == {"no_worker:workers": "fired"}
    (notice,) = notified.requests  # sent from here: no worker needed
    body = json.loads(notice.body)
    assert body["type"] == "rule.fired" and body["rule"] == "no_worker"
    assert body["runbook"] == "https://hooks.example.com/admin/runbooks/no_worker"
    assert "What to do: https://hooks.example.com/admin/runbooks/no_worker" in smtp.messages[0].as_string()
    assert queued_messages(broker, "alerts") == []  # nothing waits for a worker that is not there
    assert evaluate(app) == {}  # once, not every minute
    with app.app_context():
        heartbeat.beat("host:1:1", threads=1, queues=["webhooks"], started_at=utcnow())
    assert evaluate(app) == {"no_worker:workers": "recovered"}


def test_a_worker_that_stopped_beating_two_minutes_ago_fires(app):
    with app.app_context():
        heartbeat.beat("host:1:1", threads=1, queues=["webhooks"], started_at=utcnow())
    assert "no_worker:workers" not in evaluate(app)
    update(app, WorkerHeartbeat, "host:1:1", last_seen_at=utcnow() - timedelta(seconds=121))
    assert evaluate(app)["no_worker:workers"] == "fired"


def test_events_received_but_unprocessed_fire_unless_their_source_is_paused(app):
    source_id, _ = new_source(app)
    new_event(app, source_id, status=InboundStatus.RECEIVED, age_seconds=60)  # recent: fine
    assert "inbound_unprocessed:inbound" not in evaluate(app)
    new_event(app, source_id, status=InboundStatus.RECEIVED, age_seconds=11 * 60)
    assert evaluate(app)["inbound_unprocessed:inbound"] == "fired"
    with app.app_context():
        assert "1 events received more than 10 min ago" in db.session.get(AlertState,
                                                                           "inbound_unprocessed:inbound").summary
    update(app, InboundSource, source_id, state=SourceState.PAUSED)
    assert evaluate(app)["inbound_unprocessed:inbound"] == "recovered"  # a paused source holds them on purpose


def test_a_source_silent_past_its_window_fires_and_recovers_on_the_next_request(app):
    source_id, _ = new_source(app, silence_alert_minutes=30)
    new_source(app, name="quiet-by-design")  # no window: never judged
    new_event(app, source_id, status=InboundStatus.PROCESSED, age_seconds=31 * 60)
    assert evaluate(app)[f"source_silent:source:{source_id}"] == "fired"
    new_event(app, source_id, status=InboundStatus.PROCESSED)
    assert evaluate(app)[f"source_silent:source:{source_id}"] == "recovered"


def test_the_watch_runs_the_rules_under_a_lease(app):
    WebWatch(app).tick()
    assert firing(app) == ["no_worker:workers"]
    with app.app_context():
        assert db.session.get(PeriodicRun, "web_alerts").last_error is None


def test_a_source_silence_window_is_set_through_the_api_and_checked(app, client, auth):
    created = client.post("/api/v1/inbound-sources", headers=auth,
                          json={"name": "shop", "provider": "shopify", "silence_alert_minutes": 60})
    assert created.status_code == 201 and created.json["silence_alert_minutes"] == 60
    path = f"/api/v1/inbound-sources/{created.json['id']}"
    assert client.patch(path, headers=auth, json={"silence_alert_minutes": 1}).status_code == 422
    assert client.patch(path, headers=auth, json={"silence_alert_minutes": None}).json["silence_alert_minutes"] is None
