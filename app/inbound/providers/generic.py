"""A sender configured per source instead of coded: the signature header, its HMAC algorithm (sha1, sha256,
sha512), encoding (hex or base64) and prefix; what is signed (the body, or a content prefix + the timestamp header
+ a separator + the body, the timestamp within the tolerance both ways); where the event id and the topic are (a
header or a dotted JSON path; no id: the SHA-256 of the body). The key is the secret's text. A header may carry
several signatures separated by spaces or commas (a rotation); any may match.

Schemes that sign the URL, form parameters in sorted order, or put the signature in the body (Twilio, Square,
HubSpot v3, Mailgun), or carry timestamp and signature in one header (Paddle, Calendly "t=...,v1=..."), are not
expressible here (README, "Other providers").
"""

import base64
import binascii
import hashlib
import math

from app.credentials.signatures import text_keyed_digest
from app.inbound.providers.base import (
    Verified,
    bad,
    equal,
    event_id,
    header,
    json_object,
    malformed,
    missing,
    optional,
    stale,
)
from app.search import payload_values

#: Body fields staff find an event by.
HANDLE_PATHS = ("id", "data.id")


def _given(options, value):
    """The signatures the header carries, decoded; undecodable entries are skipped."""
    prefix, found = options.get("prefix") or "", []
    for entry in value.replace(",", " ").split():
        if prefix and not entry.startswith(prefix):
            continue
        text = entry[len(prefix):]
        try:
            found.append(base64.b64decode(text, validate=True) if options["encoding"] == "base64"
                         else bytes.fromhex(text))
        except (binascii.Error, ValueError):
            continue
    return found


def _signed_content(options, headers, body):
    """(what is signed, the signed timestamp or None)."""
    if options["signed"] == "body":
        return body, None
    raw = header(headers, options["timestamp_header"])
    if raw is None:
        raise missing(options["timestamp_header"])
    try:
        timestamp = math.floor(float(raw))
    except (ValueError, OverflowError):
        raise malformed(f"{options['timestamp_header']} is not a number of seconds") from None
    prefix, separator = options.get("content_prefix") or "", options.get("separator", ".")
    return f"{prefix}{raw}{separator}".encode() + body, timestamp


def _found(options, headers, body, name):
    """The value of the event's id or topic: its header, else its JSON path, else None."""
    if options.get(f"{name}_header"):
        return header(headers, options[f"{name}_header"])
    if options.get(f"{name}_path"):
        values = payload_values(json_object(body) or {}, [options[f"{name}_path"]])
        return values[0] if values else None
    return None


def verify(source, secrets, headers, body, now):
    """Check the signature against every live secret, then the signed time, then find the event's id and topic."""
    options = source.options or {}
    name = options["signature_header"]
    value = header(headers, name)
    if value is None:
        raise missing(name)
    content, timestamp = _signed_content(options, headers, body)
    given = _given(options, value)
    if not any(equal(text_keyed_digest(secret, content, options["algorithm"]), signature)
               for secret in secrets for signature in given):
        raise bad(name)
    if timestamp is not None and source.tolerance_seconds:
        age = now.timestamp() - timestamp
        if abs(age) > source.tolerance_seconds:
            raise stale(abs(age), source.tolerance_seconds)
    found = _found(options, headers, body, "event_id")
    if found is None and (options.get("event_id_header") or options.get("event_id_path")):
        raise malformed(f"the event id ({options.get('event_id_header') or options.get('event_id_path')}) is missing")
    provider_id = event_id(found if found is not None else "sha256:" + hashlib.sha256(body).hexdigest(), "the event id")
    return Verified(provider_id, None, optional(_found(options, headers, body, "topic"), 200))
