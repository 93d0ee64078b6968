"""What a message may hold: refuse up front anything the product could not store, sign or show back.

Every check raises InvalidInput or PayloadTooLarge naming the field, before anything is written.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.delivery import matching
from app.delivery.catalog_rules import check_payload
from app.errors import InvalidInput, PayloadTooLarge
from app.models import utcnow
from app.text import MAX_JSON_DEPTH, is_clean_text, json_depth

#: At most this many tags on one message, each at most 200 characters.
MAX_TAGS = 50
#: Deepest nesting of objects and arrays a payload may have (app.text.MAX_JSON_DEPTH, inbound bodies' too).
MAX_DEPTH = MAX_JSON_DEPTH
#: How far ahead a message may be scheduled (deliver_at).
MAX_SCHEDULE_AHEAD = timedelta(days=30)
#: How far in the past deliver_at may be (clock skew, a slow request): such a message is sent at once.
SCHEDULE_PAST_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class NewMessage:
    """A message that passed every check: its payload as the exact text that will be signed and sent."""

    event_type: str
    payload: dict
    body: str
    reference: str | None = None
    tags: tuple = ()
    idempotency_key: str | None = None
    endpoint_ids: tuple | None = None
    #: When its deliveries are to be sent (aware, UTC); None: at once.
    deliver_at: datetime | None = None
    #: PostgreSQL: the fingerprint of the event catalog its payload was checked against (None: not checked).
    catalog: str | None = None
    #: Deliveries of messages with the same key go to each endpoint in the order the messages were created.
    ordering_key: str | None = None


def check_message(event_type, payload, *, reference=None, tags=None, idempotency_key=None, endpoint_ids=None,
                  deliver_at=None, ordering_key=None, forwarded=False, catalogued=True):
    """Return a NewMessage, or raise InvalidInput / PayloadTooLarge saying which field is wrong. forwarded allows
    an event type in the forwarded namespace (app.delivery.matching). A payload is held to its event type's schema in
    the catalog (app.delivery.catalog_rules); a forwarded one is not: its sender is outside; nor, with catalogued
    false, Hookyard's own operational events (the catalog is the producers')."""
    matching.check_event_type(event_type, forwarded=forwarded)
    if endpoint_ids is not None and (not isinstance(endpoint_ids, list | tuple)
                                     or not all(isinstance(i, str) and i.isprintable() for i in endpoint_ids)):
        raise InvalidInput(_l("endpoint_ids must be a list of endpoint ids"), field="endpoint_ids")
    body = encode_payload(payload)
    catalog = check_payload(event_type, payload).fingerprint if catalogued and not forwarded else None
    return NewMessage(
        event_type=event_type, payload=payload, body=body, catalog=catalog,
        reference=check_short_text(reference, "reference"), tags=tuple(check_tags(tags)),
        idempotency_key=check_short_text(idempotency_key, "idempotency_key"),
        endpoint_ids=tuple(dict.fromkeys(endpoint_ids)) if endpoint_ids is not None else None,
        deliver_at=check_deliver_at(deliver_at), ordering_key=check_short_text(ordering_key, "ordering_key"),
    )


def check_deliver_at(value, now=None):
    """Return deliver_at (an ISO 8601 text or a datetime, with its time zone) in UTC, or None; raise InvalidInput
    when it has no time zone, is more than MAX_SCHEDULE_AHEAD ahead or more than SCHEDULE_PAST_TOLERANCE past."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(_l("deliver_at must be an ISO 8601 date and time, e.g. 2026-12-24T09:00:00Z"),
                               field="deliver_at") from None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(_l("deliver_at must be a date and time with its time zone, e.g. 2026-12-24T09:00:00+01:00"),
                           field="deliver_at")
    now = now or utcnow()
    if value > now + MAX_SCHEDULE_AHEAD:
        raise InvalidInput(_l("deliver_at may be at most %(days)s days ahead", days=MAX_SCHEDULE_AHEAD.days),
                           field="deliver_at")
    if value < now - SCHEDULE_PAST_TOLERANCE:
        raise InvalidInput(_l("deliver_at is in the past; leave it out to send at once"), field="deliver_at")
    return value.astimezone(now.tzinfo)


def encode_payload(payload):
    """Serialise a payload to the exact text that will be signed and sent, refusing what JSON cannot carry
    faithfully: NaN and Infinity, strings no UTF-8 can hold (lone surrogates), nesting deeper than MAX_DEPTH."""
    if not isinstance(payload, dict):
        raise InvalidInput(_l("payload must be a JSON object"), field="payload")
    if json_depth(payload) > MAX_DEPTH:
        raise InvalidInput(_l("payload nests deeper than %(max_depth)s levels", max_depth=MAX_DEPTH), field="payload")
    try:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        size = len(body.encode())
    except ValueError:
        raise InvalidInput(_l("payload must not contain NaN or Infinity (JSON has no such numbers)"),
                           field="payload") from None
    except UnicodeEncodeError:
        raise InvalidInput(_l("payload contains text that is not valid Unicode (a lone surrogate)"),
                           field="payload") from None
    except TypeError as exc:
        raise InvalidInput(_l("payload holds a value JSON cannot carry: %(exc)s", exc=exc), field="payload") from None
    limit = current_app.config["WEBHOOK_MAX_PAYLOAD_BYTES"]
    if size > limit:
        raise PayloadTooLarge(f"payload is {size} bytes; the limit is {limit} bytes", field="payload")
    return body


def check_short_text(value, field):
    """A handle such as a reference or an idempotency key: 1 to 200 characters of clean text, or None."""
    if value is not None and (not isinstance(value, str) or not value or len(value) > 200
                              or not is_clean_text(value)):
        raise InvalidInput(_l("%(field)s must be 1 to 200 characters of text without control characters", field=field),
                           field=field)
    return value


def check_tags(tags):
    """Return a de-duplicated list of valid tags or raise InvalidInput."""
    tags = tags or []
    if not isinstance(tags, list | tuple) or len(tags) > MAX_TAGS:
        raise InvalidInput(_l("tags must be a list of at most %(max_tags)s strings", max_tags=MAX_TAGS), field="tags")
    cleaned = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 200 or not is_clean_text(tag):
            raise InvalidInput(_l("each tag must be 1 to 200 characters of text without control characters"),
                               field="tags")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned
