"""What a receiver may ask of a delivery in its answer: the webhook-delivery response header.

`webhook-delivery: abort` ends the delivery's retries: it fails for good, its error saying the receiver asked
to stop. `webhook-delivery: disable` pauses the endpoint, audited with the receiver as the actor and an alert
raised like the endpoint's other alerts; its deliveries then wait until staff resume it. The sender reads the
header (sender.DELIVERY_CONTROL_HEADER, case-insensitive, other values ignored); record.py heeds it here, in
the transaction that records the attempt.
"""

from dataclasses import replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from app.audit import Action, Actor, record
from app.extensions import db
from app.models import Endpoint, EndpointState
from app.outbox import alert_after_commit

#: Who the audit log says paused an endpoint that asked for it.
RECEIVER = Actor("receiver")
#: The error of a delivery whose receiver asked to stop (in the attempt log and the monitor).
STOP_REASON = "receiver asked to stop"
#: The endpoint's state reason when its receiver asked to be paused.
PAUSE_REASON = "the receiver asked to be paused (webhook-delivery: disable)"


def heed(endpoint_id, outcome, now, *, pause=True):
    """Do what the receiver asked in this outcome; return (the outcome to record, True if the delivery stops).

    A stopped delivery fails for good whatever its trigger or retry policy; a success is never stopped. With
    pause (the full record, not a minimal row), "disable" pauses the endpoint.
    """
    control = outcome.delivery_control
    if control == "disable" and pause:
        _pause(endpoint_id, now)
    if control != "abort" or outcome.ok:
        return outcome, False
    why = f"{STOP_REASON}: {outcome.error}" if outcome.error else STOP_REASON
    return replace(outcome, error=why), True


def _pause(endpoint_id, now):
    """Pause the endpoint if it is enabled (compare-and-set, so concurrent answers pause it once); audit, alert."""
    paused = db.session.execute(update(Endpoint).where(
        Endpoint.id == endpoint_id, Endpoint.state == EndpointState.ENABLED,
    ).values(state=EndpointState.PAUSED, state_reason=PAUSE_REASON, state_changed_at=now,
             state_changed_by=RECEIVER.name, alerted="paused").execution_options(synchronize_session=False)).rowcount
    if not paused:
        return
    record(RECEIVER, Action.ENDPOINT_PAUSE, _l("paused: %(reason)s; its pending deliveries wait", reason=PAUSE_REASON),
           target_type="endpoint", target_ids=[endpoint_id], before={"state": "enabled"},
           after={"state": "paused", "state_reason": PAUSE_REASON})
    alert_after_commit(db.session, "paused", endpoint_id, PAUSE_REASON)
