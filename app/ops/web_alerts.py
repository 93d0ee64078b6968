"""Alerts the web process raises, so they go out when no worker runs: no worker alive, inbound events received but
left unprocessed, a source silent past its window.

The other rules run inside the workers (app.ops.alert_rules); a dead worker fleet would silence exactly the alerts
that say so. These are evaluated by a thread of the web process (app.ops.web_watch) under their own periodic lease
(one process at a time), and their notices are sent from there at once, not handed to the alerts queue that no
worker may be reading.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app import alerts
from app.audit import SYSTEM, Action, record
from app.extensions import db
from app.models import InboundEvent, InboundSource, InboundStatus, SourceState, WorkerHeartbeat, utcnow
from app.ops.alert_rules import Finding, Rule, alert_message, evaluate_rules
from app.staff.settings import get_setting


def no_worker():
    """Judge the workers: has any said it is alive in the last NO_WORKER_ALERT_SECONDS?"""
    seconds = current_app.config["NO_WORKER_ALERT_SECONDS"]
    last = db.session.scalar(select(func.max(WorkerHeartbeat.last_seen_at)))
    firing = last is None or last < utcnow() - timedelta(seconds=seconds)
    seen = f"last seen {last:%Y-%m-%d %H:%M:%S} UTC" if last else "none has ever started"
    return [Finding("workers", "Workers", firing,
                    f"Workers: no worker heartbeat for {seconds // 60:g} min ({seen}); nothing is being sent",
                    {}, "/admin/system/")]


def unprocessed_inbound():
    """Judge inbound processing: are events of enabled sources waiting, unprocessed, longer than allowed?"""
    minutes = get_setting("inbound_unprocessed_alert_minutes")
    count, oldest = db.session.execute(
        select(func.count(), func.min(InboundEvent.received_at))
        .join(InboundSource, InboundSource.id == InboundEvent.source_id)
        .where(InboundEvent.status == InboundStatus.RECEIVED, InboundSource.state == SourceState.ENABLED,
               InboundEvent.received_at < utcnow() - timedelta(minutes=minutes))).one()
    since = f", the oldest since {oldest:%H:%M} UTC" if oldest else ""
    return [Finding("inbound", "Inbound processing", count > 0,
                    f"Inbound processing: {count} events received more than {minutes} min ago are unprocessed"
                    f"{since}", {"status": "received"}, "/admin/inbound/")]


def silent_sources():
    """Judge every enabled source with a silence window: has it accepted nothing for longer than the window?"""
    now = utcnow()
    rows = db.session.execute(
        select(InboundSource.id, InboundSource.name, InboundSource.silence_alert_minutes, InboundSource.created_at,
               func.max(InboundEvent.received_at))
        .outerjoin(InboundEvent, InboundEvent.source_id == InboundSource.id)
        .where(InboundSource.silence_alert_minutes.is_not(None), InboundSource.state == SourceState.ENABLED)
        .group_by(InboundSource.id, InboundSource.name, InboundSource.silence_alert_minutes,
                  InboundSource.created_at)).all()
    findings = []
    for source_id, name, minutes, created_at, last in rows:
        quiet_since = last or created_at
        findings.append(Finding(
            f"source:{source_id}", f"Inbound source {name}", quiet_since < now - timedelta(minutes=minutes),
            f"Inbound source {name}: nothing received since {quiet_since:%Y-%m-%d %H:%M} UTC (alert after "
            f"{minutes} min of silence)", {"source": name}, "/admin/inbound/"))
    return findings


#: The rules the web process evaluates.
WEB_RULES = [
    Rule("no_worker", "No worker", no_worker),
    Rule("inbound_unprocessed", "Inbound events unprocessed", unprocessed_inbound),
    Rule("source_silent", "Silent inbound source", silent_sources),
]


def evaluate_web_rules():
    """Evaluate the web process's rules and send each change's notice from here; return the changes."""
    result = evaluate_rules(WEB_RULES, send_after_commit=False)
    for change in result["changes"]:
        send_now(change["key"], change["change"], change["link"])
    return result


def send_now(key, kind, link):
    """Send a rule's notice on every configured channel from this process; audit where it went. Never raises: a
    channel that fails is recorded and the next change is sent all the same."""
    subject, text, body = alert_message(key, kind, link)
    try:
        channels = alerts.notify(subject, text, body)
    except Exception as exc:  # noqa: BLE001  an unreachable channel must not stop the watch
        channels = [f"failed: {type(exc).__name__}"]
    record(SYSTEM, Action.ALERT_SENT, alerts.sent_by(subject, channels),
           target_type="alert", target_ids=[key], after={"channels": channels})
    db.session.commit()

