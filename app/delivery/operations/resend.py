"""Send again with a new message: "edit and resend" one delivery, and an admin's manual "send an event".

The original message is never changed (its payload is what was signed and sent); the new message links
back to it (messages.resent_from_id), so both pages show the link, and the audit entry holds the diff.
"""

import json
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.audit import Action, record
from app.checks import parse_json_object
from app.delivery import matching
from app.delivery.catalog_rules import check_payload
from app.delivery.messages import get_message, send_message
from app.delivery.queries import get_delivery
from app.errors import InvalidInput
from app.extensions import db
from app.models import Message

#: At most this many references in one manual send.
MAX_REFERENCES = 100


def json_diff(before, after, path=""):
    """Return ({path: old}, {path: new}) for every value that differs between two JSON objects."""
    old, new = {}, {}
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            o, n = json_diff(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
            old.update(o)
            new.update(n)
    elif before != after:
        old[path or "$"], new[path or "$"] = before, after
    return old, new


def parse_payload(text):
    """Parse a payload typed in an editor; raise InvalidInput saying where the JSON is wrong."""
    return parse_json_object(text or "", "payload", _l("the payload"))


def resend_delivery(delivery_id, payload, *, actor):
    """Send payload as a new message to this delivery's endpoint, linked to the original; audited with the diff.

    Returns the new message as written (app.delivery.messages.SentMessage). Raises NotFound, InvalidInput
    (bad payload, or the endpoint no longer takes deliveries) or PayloadTooLarge; nothing is written then.
    """
    delivery = get_delivery(delivery_id)
    original = delivery.message
    # An ordered message's resend keeps its key: a new message, so it goes at the end of the key.
    message, _ = send_message(original.event_type, payload, reference=original.reference, tags=original.tags,
                              endpoint_ids=[delivery.endpoint_id], ordering_key=original.ordering_key,
                              forwarded=matching.is_forwarded(original.event_type))
    if not message.deliveries:
        db.session.rollback()
        raise InvalidInput(_l("the endpoint takes no deliveries now (disabled or deleted); nothing was sent"),
                           field="endpoint")
    _link(message, original.id)
    old, new = json_diff(json.loads(original.payload), payload)
    summary = _l("resent %(original)s as %(message)s with %(count)s change(s)", original=original.id,
                 message=message.id, count=len(new))
    record(actor, Action.MESSAGE_RESEND, summary,
           target_type="message", target_ids=[original.id, message.id, *(d.id for d in message.deliveries)],
           before={"payload": old}, after={"payload": new})
    db.session.commit()
    return message


def _link(sent, original_id):
    """Record which message a new one was resent from (send_message writes the message itself)."""
    if original_id is not None:
        db.session.execute(update(Message).where(Message.id == sent.id).values(resent_from_id=original_id))


@dataclass
class SendPlan:
    """What a manual send would do: one new message per payload, and the references it could not find."""

    event_type: str
    endpoint_ids: list
    messages: list = field(default_factory=list)  # [{"reference", "payload", "tags", "resent_from_id"}]
    missing: list = field(default_factory=list)


def plan_send(event_type, endpoint_ids, *, payload=None, references=()):
    """Plan a manual send: the payload once, or for each reference the latest message of this event type."""
    if not endpoint_ids:
        raise InvalidInput(_l("choose at least one endpoint"), field="endpoint_ids")
    plan = SendPlan(event_type, list(endpoint_ids))
    references = [r.strip() for r in references if r.strip()]
    if len(references) > MAX_REFERENCES:
        raise InvalidInput(_l("at most %(max_references)s references at once", max_references=MAX_REFERENCES),
                           field="references")
    if payload is not None:
        check_payload(event_type, payload)  # the preview already refuses what the catalog refuses
        plan.messages.append({"reference": None, "payload": payload, "tags": [], "resent_from_id": None})
    for reference in references:
        latest = db.session.scalar(select(Message).where(
            Message.reference == reference, Message.event_type == event_type).order_by(Message.created_at.desc()))
        if latest is None:
            plan.missing.append(reference)
        else:
            plan.messages.append({"reference": reference, "payload": json.loads(latest.payload), "tags": latest.tags,
                                  "resent_from_id": latest.id})
    if not plan.messages:
        raise InvalidInput(_l("give a payload, or references of earlier messages of this event type"), field="payload")
    return plan


def send_planned(plan, *, actor):
    """Send every message of a plan in one transaction; audited once; return the new messages."""
    sent = []
    for item in plan.messages:
        message, _ = send_message(plan.event_type, item["payload"], reference=item["reference"], tags=item["tags"],
                                  endpoint_ids=plan.endpoint_ids)
        _link(message, item["resent_from_id"])
        sent.append(message)
    summary = _l("sent %(count)s %(event_type)s message(s) by hand", count=len(sent), event_type=plan.event_type)
    record(actor, Action.MESSAGE_SEND, summary,
           target_type="message", target_ids=[m.id for m in sent],
           after={"endpoint_ids": plan.endpoint_ids, "missing_references": plan.missing})
    db.session.commit()
    return sent


def get_linked(message_id):
    """Return (message, the message it was resent from or None, the messages resent from it)."""
    message = get_message(message_id)
    return message, message.resent_from, list(message.resends)
