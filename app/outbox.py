"""Hand work to the workers only after the transaction that wrote it commits, and never if it rolls back.

The database row is the truth; the broker message is a wake-up call. Services call
enqueue_after_commit() for deliveries, start_job_after_commit() for bulk jobs, process_inbound_after_commit()
and retry_inbound_after_commit() for inbound events and alert_after_commit() for alerts; when the session's
outermost transaction commits, they go to the receivers of the matching signal (tasks connects the Dramatiq
senders). A failed send is never raised into the caller's commit: the recovery sweep finds the row later. It is
logged once per broker outage (app.outages), and for a few seconds after it nothing is sent at all. A web request
does not even wait for the first timeout: with BROKER_HANDOFF_IN_BACKGROUND (the default with a real broker) its
committed work is handed over by a background thread (app.handoff) while the request answers.
"""

import time

from blinker import Namespace
from flask import current_app, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app import outages
from app.handoff import handoff

_signals = Namespace()
#: Sent after commit with items=[(delivery_id, delay_seconds), ...].
deliveries_committed = _signals.signal("deliveries-committed")
#: Sent after commit with items=[job_id, ...].
jobs_committed = _signals.signal("jobs-committed")
#: Sent after commit with items=[(kind, endpoint_id, reason), ...]; kind is failing, disabled, paused or recovered.
alerts_committed = _signals.signal("alerts-committed")
#: Sent after commit with items=[(inbound_event_id, trigger), ...]: inbound events to process (tasks.inbound).
inbound_committed = _signals.signal("inbound-committed")
#: Sent after commit with items=[(inbound_event_id, delay_seconds), ...]: failed inbound events to retry later.
inbound_retries_committed = _signals.signal("inbound-retries-committed")
#: Sent after commit with items=[(state key, "fired" or "recovered", monitor link), ...] (app.ops.alert_rules).
rule_alerts_committed = _signals.signal("rule-alerts-committed")

_KEY = "webhook_outbox"


def _track(session, signal, item):
    session.info.setdefault(_KEY, {}).setdefault(signal.name, []).append(item)


def enqueue_after_commit(session, delivery_id, delay_seconds=0.0):
    """Ask for delivery_id to be sent to the workers once this session's transaction commits."""
    _track(session, deliveries_committed, (delivery_id, max(float(delay_seconds), 0.0)))


def start_job_after_commit(session, job_id):
    """Ask for a bulk job to start once this session's transaction commits."""
    _track(session, jobs_committed, job_id)


def alert_after_commit(session, kind, endpoint_id, reason):
    """Ask for an alert about an endpoint to go out once this session's transaction commits."""
    _track(session, alerts_committed, (kind, endpoint_id, reason))


def process_inbound_after_commit(session, event_id, trigger="received"):
    """Ask for an inbound event to be processed once this session's transaction commits."""
    _track(session, inbound_committed, (event_id, trigger))


def retry_inbound_after_commit(session, event_id, delay_seconds):
    """Ask for a failed inbound event to be processed again delay_seconds after this session's transaction commits."""
    _track(session, inbound_retries_committed, (event_id, max(float(delay_seconds), 0.0)))


def rule_alert_after_commit(session, key, kind, link):
    """Ask for an alert rule's fired or recovered notice to go out once this session's transaction commits."""
    _track(session, rule_alerts_committed, (key, kind, link))


def commit(session):
    """Commit session (a scoped_session); when it holds no transaction (its writes were autocommitted) and nothing
    waits for a commit, there is nothing to do (a commit would begin and end an empty transaction, about a twentieth
    of an API call)."""
    if not session.registry.has():
        return  # the request never used its session
    if session().in_transaction() or session.info.get(_KEY):
        session.commit()


@event.listens_for(Session, "after_commit")
def _send_committed(session):
    pending = session.info.pop(_KEY, {})
    if not pending:
        return
    if has_request_context() and current_app.config["BROKER_HANDOFF_IN_BACKGROUND"]:
        handoff.submit(current_app._get_current_object(), send_pending, pending)  # full: the sweep sends them
        return
    send_pending(pending)


def send_pending(pending):
    """Send {signal name: items} taken from a committed session to the signals' receivers (the broker)."""
    if not outages.broker.available():
        return  # the broker failed moments ago: the rows are committed, and the sweep sends them
    started = time.monotonic()
    for name, items in pending.items():
        try:
            _signals[name].send(None, items=items)
        except Exception as exc:  # noqa: BLE001  the rows are committed; the sweep will pick them up
            outages.broker.failed(exc, started=started)
            return


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session, transaction):
    # Runs after after_commit (which has already taken the items) and on rollback or close.
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_KEY, None)
