"""Stripe: Stripe-Signature "t=<unix>,v1=<hex>[,v1=<hex>...]", each v1 the hex HMAC-SHA256 of "<t>.<raw body>"
keyed by the whsec_ string as it is; any v1 may match (a rolled secret signs beside the new one). As
stripe-python does, the signature is checked first, then the age (one-sided: only too old is refused). The event
id and type come from the body."""

from app.credentials.signatures import text_keyed_digest
from app.inbound.providers.base import Verified, bad, equal, event_id, json_object, malformed, missing, optional, stale

SIGNATURE = "Stripe-Signature"
#: Body fields staff find an event by: the object's id (ch_..., pi_..., in_...) and its payment intent.
HANDLE_PATHS = ("data.object.id", "data.object.payment_intent", "data.object.metadata.order_id")


def parse(value):
    """Return (timestamp, [v1 signatures]) from a Stripe-Signature header, or None when it is unreadable."""
    timestamp, signatures = None, []
    for item in value.split(","):
        key, _, text = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(text)
            except ValueError:
                return None
        elif key == "v1":
            signatures.append(text.strip())
    return (timestamp, signatures) if timestamp is not None and signatures else None


def signature(secret, timestamp, body):
    """Return Stripe's v1 signature: hex HMAC-SHA256 of "<t>.<body>" keyed by the secret's text."""
    return text_keyed_digest(secret, f"{timestamp}.".encode() + body).hex()


def verify(source, secrets, headers, body, now):
    """Check any v1 against every live secret, then the signed time, then read the event's id and type."""
    value = headers.get(SIGNATURE)
    if not value or not value.strip():
        raise missing(SIGNATURE)
    parsed = parse(value)
    if parsed is None:
        raise bad(SIGNATURE)
    timestamp, given = parsed
    if not any(equal(signature(secret, timestamp, body), v1) for secret in secrets for v1 in given):
        raise bad(SIGNATURE)
    age = now.timestamp() - timestamp
    if source.tolerance_seconds and age > source.tolerance_seconds:
        raise stale(age, source.tolerance_seconds)
    event = json_object(body)
    if event is None:
        raise malformed("the body is not a JSON object; Stripe sends an event")
    return Verified(event_id(event.get("id"), "the event's id"), None, optional(event.get("type"), 200))
