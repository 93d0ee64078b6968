"""Alert rules evaluated periodically (one evaluator at a time): each fires once when it starts, once when it recovers.

A rule is a name, a title and evaluate() -> [Finding], one finding per subject it could judge (an
endpoint, "overall", the backlog): firing or not. The evaluator keeps an AlertState per rule and
subject and acts only on a change, so an alert that stays bad is not repeated every minute. Every
change is audited and notified after commit (tasks/alerts.py sends it). Endpoint failures in a row
are a rule of their own in app.delivery.attempt.endpoint_health, alerted as they happen.

To add a rule: write evaluate() returning Findings and append Rule("name", "Title", evaluate) to RULES; a finding
links to the monitor filtered by monitor_filter, or to another staff page (link_path); a rule's on_change(finding)
runs in the transaction that records a change (the inbound rules set the source's alerted with it).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.audit import SYSTEM, Action, record
from app.delivery import operational
from app.delivery.queries import oldest_overdue_seconds
from app.extensions import db
from app.inbound.counts import hour_of
from app.models import AlertState, AttemptTrigger, DeliveryAttempt, Endpoint, InboundCount, InboundSource, utcnow
from app.outbox import rule_alert_after_commit
from app.runbooks import runbook_path
from app.staff.settings import get_setting

#: The audit actions of every alert, rule or endpoint: the alert history is these entries.
ALERT_ACTIONS = frozenset({Action.ALERT_FIRED, Action.ALERT_RECOVERED, Action.ALERT_FAILING, Action.ALERT_DISABLED,
                           Action.ALERT_FINAL_FAILURE})


@dataclass(frozen=True)
class Finding:
    """One subject judged by a rule: whether it is bad now, in words, and the monitor filter showing why."""

    subject: str
    label: str
    firing: bool
    summary: str
    monitor_filter: dict = field(default_factory=dict)
    #: The staff page the alert links to, filtered by monitor_filter: the sync monitor unless said otherwise.
    link_path: str = "/admin/"


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    evaluate: object
    #: Called with the finding whose change is being recorded, in the same transaction; None: nothing to do.
    on_change: object = None


def monitor_link(monitor_filter, path="/admin/"):
    """An absolute link (PUBLIC_URL) to the sync monitor (or the staff page at path) filtered as given."""
    query = f"?{urlencode(monitor_filter)}" if monitor_filter else ""
    return f"{current_app.config['PUBLIC_URL']}{path}{query}"


def runbook_link(kind):
    """An absolute link (PUBLIC_URL) to the runbook of an alert kind: what it means, what to check, what to do."""
    return f"{current_app.config['PUBLIC_URL']}{runbook_path(kind)}"


def _rate_finding(subject, label, total, ok, threshold, minimum, window, monitor_filter):
    rate = 100.0 * ok / total if total else 100.0
    firing = total >= minimum and rate < threshold
    summary = (f"{label}: {rate:.1f} % of {total} attempts succeeded in the last {window} min "
               f"(alert under {threshold:g} %, from {minimum} attempts)")
    return Finding(subject, label, firing, summary, monitor_filter)


def success_rate():
    """Judge the success rate of every endpoint with enough attempts in the window, and overall."""
    threshold, minimum = get_setting("alert_success_rate_percent"), get_setting("alert_min_attempts")
    window = get_setting("alert_window_minutes")
    since = utcnow() - timedelta(minutes=window)
    # Operational endpoints are left out: their failures would fire alerts announced to them (a loop).
    endpoints = dict(db.session.execute(select(Endpoint.id, Endpoint.name).where(
        Endpoint.deleted_at.is_(None), Endpoint.operational.is_(False))).all())
    rows = db.session.execute(  # one range scan per endpoint on (endpoint_id, started_at)
        select(DeliveryAttempt.endpoint_id, func.count(), func.count(DeliveryAttempt.error_class))
        .where(DeliveryAttempt.endpoint_id.in_(list(endpoints)), DeliveryAttempt.started_at >= since,
               DeliveryAttempt.trigger != AttemptTrigger.TEST)
        .group_by(DeliveryAttempt.endpoint_id)).all()
    findings = [_rate_finding(f"endpoint:{endpoint_id}", f"Endpoint {endpoints[endpoint_id] or endpoint_id}",
                              total, total - failed, threshold, minimum, window,
                              {"endpoint_id": endpoint_id, "status": "failed"})
                for endpoint_id, total, failed in rows]
    total, failed = sum(r[1] for r in rows), sum(r[2] for r in rows)
    findings.append(_rate_finding("overall", "All endpoints", total, total - failed, threshold, minimum, window,
                                  {"status": "failed"}))
    return findings


def backlog():
    """Judge the backlog: is the most overdue pending delivery waiting longer than allowed?"""
    minutes = get_setting("alert_backlog_minutes")
    overdue = oldest_overdue_seconds()
    summary = (f"the oldest pending delivery is {overdue / 60:.1f} min overdue (alert from {minutes} min); "
               "are the workers running?")
    return [Finding("backlog", "Backlog", overdue > minutes * 60, summary, {"status": "pending"})]


#: The InboundCount kinds a rejecting source is judged by: requests whose signature did not verify.
SIGNATURE_REJECTIONS = ("bad_signature", "missing_signature")


def _source_figures(kinds):
    """{source name: count of kinds} over the last hour (this clock hour and the one before: counts are hourly)."""
    since = hour_of(utcnow() - timedelta(hours=1))
    return dict(db.session.execute(
        select(InboundCount.source_name, func.sum(InboundCount.count))
        .where(InboundCount.kind.in_(kinds), InboundCount.hour_start >= since)
        .group_by(InboundCount.source_name)).all())


def failing_sources():
    """Judge every inbound source: have its processings failed too often in the last hour?"""
    threshold = get_setting("inbound_alert_failures")
    failed = _source_figures(["failed"])
    return [Finding(f"source:{source_id}", f"Inbound source {name}", failed.get(name, 0) >= threshold,
                    f"Inbound source {name}: {failed.get(name, 0)} processings failed in the last hour "
                    f"(alert from {threshold})", {"source": name, "status": "failed"}, "/admin/inbound/")
            for source_id, name in db.session.execute(select(InboundSource.id, InboundSource.name)).all()]


def rejecting_sources():
    """Judge every inbound source: were many requests refused for their signature in the last hour (a wrong
    secret, usually)?"""
    threshold = get_setting("inbound_alert_rejections")
    rejected = _source_figures(SIGNATURE_REJECTIONS)
    return [Finding(f"source:{source_id}", f"Inbound source {name}", rejected.get(name, 0) >= threshold,
                    f"Inbound source {name}: {rejected.get(name, 0)} requests refused for their signature in the "
                    f"last hour (alert from {threshold}); is the secret right?", {}, "/admin/inbound-sources/")
            for source_id, name in db.session.execute(select(InboundSource.id, InboundSource.name)).all()]


def _source_alerted(kind):
    """Set the source's alerted to kind while the finding fires; clear it on recovery unless another kind holds."""

    def on_change(finding):
        source_id = finding.subject.removeprefix("source:")
        statement = update(InboundSource).where(InboundSource.id == source_id)
        if finding.firing:
            statement = statement.values(alerted=kind)
        else:
            statement = statement.where(InboundSource.alerted == kind).values(alerted=None)
        db.session.execute(statement.execution_options(synchronize_session=False))

    return on_change


#: The rules the evaluator runs, in order.
RULES = [
    Rule("success_rate", "Success rate", success_rate),
    Rule("backlog", "Backlog", backlog),
    Rule("inbound_failing", "Failing inbound source", failing_sources, _source_alerted("failing")),
    Rule("inbound_rejecting", "Rejecting inbound source", rejecting_sources, _source_alerted("rejecting")),
]


def _change(rule, finding, state, now, send_after_commit=True):
    kind = "fired" if finding.firing else "recovered"
    state.firing, state.summary, state.updated_at = finding.firing, finding.summary, now
    if finding.firing:
        state.since = now
    link = monitor_link(finding.monitor_filter, finding.link_path)
    if rule.on_change:
        rule.on_change(finding)
    action = Action.ALERT_FIRED if finding.firing else Action.ALERT_RECOVERED
    summary = (_l("%(rule)s fired: %(summary)s", rule=rule.title, summary=finding.summary) if finding.firing
               else _l("%(rule)s recovered: %(summary)s", rule=rule.title, summary=finding.summary))
    record(SYSTEM, action, summary, target_type="alert",
           target_ids=[state.key], after={"rule": rule.name, "subject": finding.subject, "link": link})
    if send_after_commit:
        rule_alert_after_commit(db.session, state.key, kind, link)
    operational.emit("alert.fired" if finding.firing else "alert.resolved", {"alert": {
        "key": state.key, "rule": rule.name, "title": rule.title, "subject": finding.subject,
        "summary": finding.summary, "since": state.since.isoformat() if state.since else None, "link": link,
        "runbook": runbook_link(rule.name)}})
    return kind, link


def evaluate_rules(rules=None, *, send_after_commit=True):
    """Evaluate every rule; record and announce what started or stopped firing; commit. Returns the changes.

    send_after_commit: hand each notice to the alerts queue once committed; False leaves sending to the caller
    (app.ops.web_alerts, which cannot count on a worker)."""
    now = utcnow()
    changes = []
    for rule in rules or RULES:
        for finding in rule.evaluate():
            key = f"{rule.name}:{finding.subject}"
            state = db.session.get(AlertState, key)
            if state is None:
                if not finding.firing:
                    continue
                state = AlertState(key=key, rule=rule.name, subject=finding.subject, firing=False)
                db.session.add(state)
            if state.firing != finding.firing:
                change, link = _change(rule, finding, state, now, send_after_commit)
                changes.append({"key": key, "change": change, "title": rule.title, "summary": finding.summary,
                                "link": link})
    db.session.commit()
    return {"changes": changes}


def rule_title(name):
    """The title of the rule called name (a worker's or the web process's), or the name itself."""
    from app.ops.web_alerts import WEB_RULES  # late import: web_alerts builds on this module

    return next((r.title for r in RULES + WEB_RULES if r.name == name), name)


def alert_message(key, kind, link):
    """Return (subject, text, JSON body) of a rule's fired or recovered notice, from its current state."""
    state = db.session.get(AlertState, key)
    title = rule_title(state.rule)
    subject = f"[Hookyard] {title} {'recovered' if kind == 'recovered' else 'alert'}: {state.summary.split(':')[0]}"
    runbook = runbook_link(state.rule)
    text = f"{title} {kind}.\n\n{state.summary}\n\nOpen the monitor: {link}\nWhat to do: {runbook}\n"
    body = {"type": f"rule.{kind}", "rule": state.rule, "subject": state.subject, "summary": state.summary,
            "firing": state.firing, "since": state.since.isoformat() if state.since else None, "link": link,
            "runbook": runbook, "at": utcnow().isoformat()}
    return subject, text, body
