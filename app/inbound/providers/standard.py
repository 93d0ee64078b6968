"""Standard Webhooks (and Svix senders): webhook-signature holds space-separated "v1,<base64>" entries, each the
HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>" keyed by the base64 after "whsec_"; the timestamp
must be within the tolerance both ways. These are the rules of the standardwebhooks library, except that a
malformed entry is refused as a bad signature (the library raises a bare ValueError) and the signature is checked
before the age, so only a correctly signed request learns that it was stale."""

import base64
import binascii
import hmac
import math

from app.credentials.signatures import standard_digest
from app.inbound.providers.base import Verified, bad, event_id, header, malformed, missing, stale

ID, TIMESTAMP, SIGNATURE = "webhook-id", "webhook-timestamp", "webhook-signature"
#: Body fields staff find an event by.
HANDLE_PATHS = ("data.id",)


def _given(value):
    """The decoded v1 signatures of the header; other versions (v1a) are skipped, as the library does."""
    found = []
    for entry in value.split(" "):
        version, comma, text = entry.partition(",")
        if not comma:
            raise bad(SIGNATURE)
        if version == "v1":
            try:
                found.append(base64.b64decode(text, validate=True))
            except (binascii.Error, ValueError):
                raise bad(SIGNATURE) from None
    return found


def _timestamp(value):
    try:
        return math.floor(float(value))
    except (ValueError, OverflowError):
        raise malformed("webhook-timestamp is not a number of seconds") from None


def verify(source, secrets, headers, body, now):
    """Check any v1 entry against every live secret, then the signed time (both ways)."""
    msg_id, raw_timestamp, value = (header(headers, name) for name in (ID, TIMESTAMP, SIGNATURE))
    if not (msg_id and raw_timestamp and value):
        raise missing(SIGNATURE if msg_id and raw_timestamp else f"{ID}, {TIMESTAMP} or {SIGNATURE}")
    timestamp = _timestamp(raw_timestamp)
    given = _given(value)
    if not any(hmac.compare_digest(standard_digest(secret, msg_id, timestamp, body), sig)
               for secret in secrets for sig in given):
        raise bad(SIGNATURE)
    age = now.timestamp() - timestamp
    if source.tolerance_seconds and abs(age) > source.tolerance_seconds:
        raise stale(abs(age), source.tolerance_seconds)
    return Verified(event_id(msg_id, ID), None, None)
