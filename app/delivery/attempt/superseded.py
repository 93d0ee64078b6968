"""A resend that succeeded settles the failure it was sent for: the original message's failed delivery to the same
endpoint is marked resolved, "superseded by <the new delivery>", in the transaction recording the success, and
audited. It then leaves the Failed tab and the overview's failed count, as one a person resolved would.

Only claims of resent messages (Claim.resent_from_id) are looked at, so an ordinary success reads nothing more.
A resend of a resend settles every failed ancestor up the chain (at most MAX_CHAIN messages back).
"""

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.audit import SYSTEM, Action, record
from app.extensions import db
from app.models import Delivery, DeliveryStatus, Message, utcnow

#: How far up a chain of resends a success settles failures.
MAX_CHAIN = 10
#: The resolution note's words; the pages read the new delivery's id back from them (superseding_id).
NOTE = "superseded by {}: a resend of it succeeded"
_NOTE = re.compile(r"^superseded by (dlv_[0-9A-Z]{26})\b")


def superseding_id(note):
    """The id of the delivery whose success superseded a failure, read from its resolution note; or None."""
    found = _NOTE.match(note or "")
    return found.group(1) if found else None


def settle_originals(claims):
    """Resolve the failed deliveries that these succeeded resends' deliveries supersede; audited, not committed."""
    for claim in claims:
        if claim.resent_from_id:
            _settle(claim.delivery_id, claim.endpoint_id, _ancestors(claim.resent_from_id))


def _ancestors(message_id):
    """The message a resend came from, the one that came from, and so on (nearest first)."""
    chain = []
    while message_id and message_id not in chain and len(chain) < MAX_CHAIN:
        chain.append(message_id)
        message_id = db.session.scalar(select(Message.resent_from_id).where(Message.id == message_id))
    return chain


def _settle(delivery_id, endpoint_id, message_ids):
    settled = db.session.scalars(
        update(Delivery)
        .where(Delivery.message_id.in_(message_ids), Delivery.endpoint_id == endpoint_id,
               Delivery.status == DeliveryStatus.FAILED, Delivery.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by=SYSTEM.name, resolved_note=NOTE.format(delivery_id))
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)).all()
    if settled:
        summary = _l("resolved %(count)s failed delivery(ies): superseded by %(delivery)s, a resend that succeeded",
                     count=len(settled), delivery=delivery_id)
        record(SYSTEM, Action.DELIVERIES_SUPERSEDED, summary, target_type="delivery",
               target_ids=[*settled, delivery_id], after={"superseded_by": delivery_id})
