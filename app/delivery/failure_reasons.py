"""Why a partner refused a webhook, in its own words: a short excerpt of the last response body (a JSON `error`,
`message` or `detail` field, or the first line of a text body), shown beside "HTTP 422 Unprocessable Entity" in the
monitor, on the delivery page and on the endpoint page. Read-side only: the attempt records keep the whole body."""

import json
import re
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from app.extensions import db
from app.models import Delivery, DeliveryAttempt

#: Longest excerpt shown, in characters (the whole body is one click away, on the delivery page).
EXCERPT_CHARS = 120
#: How much of a stored body is read to find the reason: enough for any JSON error document's first field.
_READ_CHARS = 4000
#: JSON fields that carry a receiver's reason, most telling first (RFC 9457 problem details use detail and title).
_FIELDS = ("error", "message", "detail", "error_description", "reason", "title", "errors")
_TAG = re.compile(r"<[^>]*>")


def reason_excerpt(body):
    """Return a receiver's reason read from a response body, one line, at most EXCERPT_CHARS; or None."""
    if not body or not body.strip():
        return None
    reason = _json_reason(body) or _first_line(body)
    if not reason:
        return None
    reason = " ".join(reason.split())
    return reason if len(reason) <= EXCERPT_CHARS else reason[:EXCERPT_CHARS - 1].rstrip() + "…"


def _json_reason(body):
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return _field(document, depth=0)


def _field(value, depth):
    """The first reason field's text in a JSON value ({"error": {"message": ...}} and ["..."] included)."""
    if depth > 3:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return next((found for item in value[:3] if (found := _field(item, depth + 1))), None)
    if isinstance(value, dict):
        for name in _FIELDS:
            if name in value and (found := _field(value[name], depth + 1)):
                return found
    return None


def _first_line(body):
    if body.lstrip().startswith("{") or body.lstrip().startswith("["):
        return None  # JSON without a reason field, or cut short: the body says more than a fragment would
    text = _TAG.sub(" ", body)
    return next((line.strip() for line in text.splitlines() if line.strip()), None)


def last_reasons(delivery_ids):
    """{delivery id: the reason in its last attempt's response body} for those whose body gives one."""
    if not delivery_ids:
        return {}
    body = func.substr(DeliveryAttempt.response_body, 1, _READ_CHARS).label("body")
    last = (select(DeliveryAttempt.delivery_id, body)
            .join(Delivery, and_(Delivery.id == DeliveryAttempt.delivery_id,
                                 DeliveryAttempt.number == Delivery.attempt_count))
            .where(DeliveryAttempt.delivery_id.in_(list(delivery_ids)), DeliveryAttempt.error_class.is_not(None),
                   DeliveryAttempt.response_body_encoding.is_(None)))
    found = ((row.delivery_id, reason_excerpt(row.body)) for row in db.session.execute(last))
    return {delivery_id: reason for delivery_id, reason in found if reason}


@dataclass(frozen=True)
class RecentError:
    """One recent failed attempt of an endpoint, as its page shows it."""

    delivery_id: str
    started_at: object
    error_class: object
    error: str
    reason: str | None


def recent_errors(endpoint_id, limit=3):
    """The endpoint's last few failed attempts, newest first, each with the receiver's reason where it gave one."""
    rows = db.session.execute(
        select(DeliveryAttempt.delivery_id, DeliveryAttempt.started_at, DeliveryAttempt.error_class,
               DeliveryAttempt.error, DeliveryAttempt.response_body_encoding,
               func.substr(DeliveryAttempt.response_body, 1, _READ_CHARS).label("body"))
        .where(DeliveryAttempt.endpoint_id == endpoint_id, DeliveryAttempt.error_class.is_not(None))
        .order_by(DeliveryAttempt.started_at.desc(), DeliveryAttempt.id.desc()).limit(limit))
    return [RecentError(r.delivery_id, r.started_at, r.error_class, r.error or "",
                        None if r.response_body_encoding else reason_excerpt(r.body)) for r in rows]
