"""Zoho (CRM, Books, Inventory): no signature scheme to check, so the source's secret is a shared token the Zoho
webhook sends in a header of its own (options "token_header", default Authorization; "Bearer <token>" also
passes), compared in constant time. The event id is the body field named by options "event_id_field" (a dotted
path in JSON, or a form field), else the SHA-256 of the body; the topic the field "topic_field", else
X-Zoho-Event."""

import hashlib
from urllib.parse import parse_qsl

from app.inbound.providers.base import Verified, bad, equal, event_id, header, json_object, missing, optional
from app.search import payload_values

#: Where the token travels unless the source's options say otherwise.
DEFAULT_TOKEN_HEADER = "Authorization"
TOPIC_HEADER = "X-Zoho-Event"
#: Body fields staff find an event by (Zoho record ids and Books/Inventory document numbers).
HANDLE_PATHS = ("id", "salesorder.salesorder_number", "invoice.invoice_number", "data.id")


def token_header(source):
    """Return the header name the source's token travels in."""
    return (source.options or {}).get("token_header") or DEFAULT_TOKEN_HEADER


def fields(body):
    """Return the body as a dict: a JSON object, else form fields, else empty."""
    parsed = json_object(body)
    if parsed is not None:
        return parsed
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}


def _field(values, path):
    found = payload_values(values, [path]) if path else []
    return found[0] if found else None


def verify(source, secrets, headers, body, now):
    """Compare the token against every live secret; find the event's id and topic."""
    name = token_header(source)
    given = header(headers, name)
    if given is None:
        raise missing(name)
    bare = given[7:].strip() if given[:7].lower() == "bearer " else given
    if not any(equal(secret, candidate) for secret in secrets for candidate in (given, bare)):
        raise bad(name)
    options = source.options or {}
    values = fields(body)
    found = _field(values, options.get("event_id_field"))
    provider_id = event_id(found if found is not None else "sha256:" + hashlib.sha256(body).hexdigest(),
                           f"the field {options.get('event_id_field')!r}")
    topic = _field(values, options.get("topic_field")) or header(headers, TOPIC_HEADER)
    return Verified(provider_id, None, optional(topic, 200))
