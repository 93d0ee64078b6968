import json
from datetime import timedelta

from sqlalchemy import select

from app.audit import SYSTEM
from app.delivery.endpoints.operational_endpoints import create_operational_endpoint
from app.extensions import db
from app.models import AuditEntry, Delivery, DeliveryStatus, Message, utcnow
from app.ops.alert_rules import Finding, Rule, evaluate_rules
from tests.support.factories import send, update
from tests.support.receiver import Reply


def drain(broker, worker):
    for queue in ("webhooks", "alerts"):
        broker.join(queue)
    worker.join()


def deliver(app, broker, worker, count):
    for _ in range(count):
        send(app)
    drain(broker, worker)


def evaluate(app, broker, worker):
    with app.app_context():
        changes = evaluate_rules()["changes"]
    drain(broker, worker)  # the notices go out through the alerts actor
    return sorted((c["key"].split(":")[0] + ":" + c["key"].split(":")[1], c["change"]) for c in changes)


def test_a_low_success_rate_fires_once_then_recovers_once_by_email_and_notification_url(
        app, make_endpoint, receiver, alerts, broker, worker):
    notified, smtp = alerts
    app.config.update(WEBHOOK_BREAKER_THRESHOLD=1000, ALERT_MIN_ATTEMPTS=4, PUBLIC_URL="https://hooks.example.com")
    endpoint = make_endpoint(name="OnlyPerf", max_attempts=1)
    receiver.default = Reply(500)
    deliver(app, broker, worker, 5)

    # When the rules are evaluated twice while the rate stays at 0 %
    assert evaluate(app, broker, worker) == [("success_rate:endpoint", "fired"), ("success_rate:overall", "fired")]
    assert evaluate(app, broker, worker) == []
    # Then each subject alerted once, on both channels, with a link to the filtered monitor
    fired = [json.loads(r.body) for r in notified.requests]
    assert sorted(b["type"] for b in fired) == ["rule.fired", "rule.fired"]
    by_subject = {b["subject"]: b for b in fired}
    assert by_subject[f"endpoint:{endpoint.id}"]["link"] == (
        f"https://hooks.example.com/admin/?endpoint_id={endpoint.id}&status=failed")
    assert "0.0 % of 5 attempts" in by_subject["overall"]["summary"]
    assert len(smtp.messages) == 2 and all("alert" in m["Subject"] for m in smtp.messages)
    assert f"endpoint_id={endpoint.id}" in "".join(m.get_payload(decode=True).decode() for m in smtp.messages)

    # When enough attempts succeed to lift the rate above 90 %, it recovers once
    receiver.default = Reply(200)
    deliver(app, broker, worker, 50)
    assert evaluate(app, broker, worker) == [("success_rate:endpoint", "recovered"),
                                             ("success_rate:overall", "recovered")]
    assert evaluate(app, broker, worker) == []
    assert sorted(json.loads(r.body)["type"] for r in notified.requests) == ["rule.fired"] * 2 + ["rule.recovered"] * 2
    assert len(smtp.messages) == 4
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("alert.%"))).all()
        assert sorted(actions).count("alert.fired") == 2 and actions.count("alert.recovered") == 2


def test_one_failure_in_two_attempts_does_not_page(app, make_endpoint, receiver, alerts, broker, worker):
    notified, _ = alerts
    make_endpoint(max_attempts=1)
    receiver.reply(Reply(500), Reply(200))
    deliver(app, broker, worker, 2)
    assert evaluate(app, broker, worker) == []  # under the default minimum of 20 attempts
    assert notified.requests == []


def test_a_backlog_fires_when_the_oldest_pending_is_overdue_and_recovers_when_it_is_sent(
        app, make_endpoint, alerts, broker, worker):
    notified, _ = alerts
    make_endpoint()
    _, (delivery_id,) = send(app)
    drain(broker, worker)  # sent; now make it look stuck, as if no worker had run for 16 minutes
    update(app, Delivery, delivery_id, status=DeliveryStatus.PENDING, next_attempt_at=utcnow() - timedelta(minutes=16))
    assert evaluate(app, broker, worker) == [("backlog:backlog", "fired")]
    update(app, Delivery, delivery_id, status=DeliveryStatus.SUCCEEDED)
    assert evaluate(app, broker, worker) == [("backlog:backlog", "recovered")]
    assert [json.loads(r.body)["type"] for r in notified.requests] == ["rule.fired", "rule.recovered"]
    assert json.loads(notified.requests[0].body)["link"].endswith("/admin/?status=pending")


def test_thresholds_and_recipients_come_from_the_settings_page(app, make_endpoint, receiver, alerts, broker, worker):
    from app.audit import Actor
    from app.staff.settings import set_setting

    notified, smtp = alerts
    app.config.update(WEBHOOK_BREAKER_THRESHOLD=1000)
    make_endpoint(max_attempts=1)
    receiver.reply(Reply(500), *[Reply(200)] * 9)
    deliver(app, broker, worker, 10)
    with app.app_context():
        admin = Actor("admin@example.com")
        set_setting("alert_min_attempts", "10", actor=admin)
        set_setting("alert_success_rate_percent", "95", actor=admin)  # 90 % is now too low
        set_setting("alert_email_to", "oncall@example.com; boss@example.com", actor=admin)
    assert ("success_rate:overall", "fired") in evaluate(app, broker, worker)
    assert smtp.messages and smtp.messages[0]["To"] == "oncall@example.com, boss@example.com"



def test_alert_changes_are_operational_events_with_their_runbook(app, receiver):
    app.config["PUBLIC_URL"] = "https://hooks.example.com"
    firing = {"now": True}
    rule = Rule("backlog", "Backlog", lambda: [Finding("backlog", "Backlog", firing["now"], "Backlog: 20 min late")])
    with app.app_context():
        ops, _ = create_operational_endpoint(receiver.url("/ops"), actor=SYSTEM,
                                             event_types=["alert.fired", "alert.resolved"])
        evaluate_rules([rule])
        firing["now"] = False
        evaluate_rules([rule])
        bodies = [json.loads(m.payload) for m in db.session.scalars(
            select(Message).join(Delivery, Delivery.message_id == Message.id)
            .where(Delivery.endpoint_id == ops.id).order_by(Message.created_at))]
    assert [b["type"] for b in bodies] == ["alert.fired", "alert.resolved"]
    alert = bodies[0]["data"]["alert"]
    assert alert["rule"] == "backlog" and alert["summary"] == "Backlog: 20 min late"
    assert alert["runbook"] == "https://hooks.example.com/admin/runbooks/backlog"
