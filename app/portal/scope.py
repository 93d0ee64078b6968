"""What a portal link's session may read: only the endpoints the link names, and their deliveries and attempts.

Every read goes through here and names the link; an id outside the link is NotFound, exactly like an id that
does not exist, so nothing tells a partner what else is there.
"""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.delivery import catalog, matching
from app.delivery.endpoints.figures import last_day_figures
from app.delivery.queries import DeliveryFilter
from app.errors import NotFound
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Endpoint, Message, utcnow

#: Deliveries on one page of the portal's list.
PER_PAGE = 20


def endpoints(link):
    """The link's endpoints still in service, in the order the link names them."""
    rows = db.session.scalars(select(Endpoint).where(Endpoint.id.in_(link.endpoint_ids),
                                                     Endpoint.deleted_at.is_(None))).all()
    order = {endpoint_id: n for n, endpoint_id in enumerate(link.endpoint_ids)}
    return sorted(rows, key=lambda row: order[row.id])


def event_types(link):
    """The catalog's event types that at least one of the link's endpoints receives (its filter matches them)."""
    filters = [row.event_types for row in endpoints(link)]
    return [t for t in catalog.list_event_types() if any(matching.matches(f, t.name) for f in filters)]


def endpoint(link, endpoint_id):
    """One of the link's endpoints, or NotFound."""
    row = db.session.get(Endpoint, endpoint_id) if endpoint_id in link.endpoint_ids else None
    if row is None or row.deleted_at is not None:
        raise NotFound("no such endpoint")
    return row


def figures(link):
    """{endpoint id: last 24 hours' Figures} of the link's endpoints only."""
    return {eid: f for eid, f in last_day_figures(utcnow()).items() if eid in link.endpoint_ids}


def _visible():
    """Deliveries of endpoints still in service (a deleted endpoint's history leaves the portal)."""
    return Delivery.endpoint_id.in_(select(Endpoint.id).where(Endpoint.deleted_at.is_(None)))


def deliveries(link, flt: DeliveryFilter, page=1):
    """(one page of the link's deliveries matching flt, newest first; whether there are more)."""
    ids = [flt.endpoint_id] if flt.endpoint_id else link.endpoint_ids
    query = (select(Delivery).where(*flt.replace(endpoint_id=None).conditions(), Delivery.endpoint_id.in_(ids),
                                    Delivery.endpoint_id.in_(link.endpoint_ids), _visible())
             .order_by(Delivery.created_at.desc(), Delivery.id.desc())
             .options(joinedload(Delivery.message).load_only(Message.reference)))  # each row shows its reference
    rows = db.session.scalars(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()
    return rows[:PER_PAGE], len(rows) > PER_PAGE


def delivery(link, delivery_id):
    """One delivery to one of the link's endpoints, or NotFound."""
    row = db.session.scalar(select(Delivery).where(Delivery.id == delivery_id,
                                                   Delivery.endpoint_id.in_(link.endpoint_ids), _visible()))
    if row is None:
        raise NotFound("no such delivery")
    return row


def attempts(row):
    """A delivery's attempts, newest first (row already checked by delivery())."""
    return db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == row.id)
                              .order_by(DeliveryAttempt.number.desc())).all()
