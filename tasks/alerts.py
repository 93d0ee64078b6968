"""The alert actor, and the hook that sends alerts once their transaction commits."""

import dramatiq

from app import alerts, outbox
from app.audit import SYSTEM, Action, record
from app.extensions import db
from app.ops.alert_rules import alert_message
from app.portal import partner_mail
from app.queues import ALERTS as QUEUE  # its own queue, so alerts never wait behind a backlog of webhooks
from tasks import broker as _broker  # noqa: F401  IMPORTANT: set_broker() must run before @actor
from tasks.outages import retry_when_database_down


@dramatiq.actor(queue_name=QUEUE, max_retries=5, min_backoff=10_000)
def send_endpoint_alert(kind, endpoint_id, reason):
    """Send an alert about an endpoint on every configured channel."""
    with retry_when_database_down():
        alerts.send_alert(kind, endpoint_id, reason)


@dramatiq.actor(queue_name=QUEUE, max_retries=5, min_backoff=10_000)
def email_endpoint_partner(kind, endpoint_id, reason):
    """Email an endpoint's partner contact about a change of state, with a fresh view-only portal link."""
    with retry_when_database_down():
        partner_mail.email_partner(kind, endpoint_id, reason)


@outbox.alerts_committed.connect
def send_committed(sender, items):
    for kind, endpoint_id, reason in items:
        send_endpoint_alert.send(kind, endpoint_id, reason)
        if kind in partner_mail.PARTNER_KINDS:
            email_endpoint_partner.send(kind, endpoint_id, reason)


@dramatiq.actor(queue_name=QUEUE, max_retries=5, min_backoff=10_000)
def send_rule_alert(key, kind, link):
    """Send an alert rule's fired or recovered notice on every configured channel; audit where it went."""
    with retry_when_database_down():
        subject, text, body = alert_message(key, kind, link)
        channels = alerts.notify(subject, text, body)
        record(SYSTEM, Action.ALERT_SENT, alerts.sent_by(subject, channels),
               target_type="alert", target_ids=[key], after={"channels": channels})
        db.session.commit()


@outbox.rule_alerts_committed.connect
def send_committed_rules(sender, items):
    """Send a message for each committed rule alert."""
    for key, kind, link in items:
        send_rule_alert.send(key, kind, link)
