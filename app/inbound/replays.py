"""Replays of a captured request under a fresh delivery id.

Shopify and GitHub sign the body only: their delivery id (X-Shopify-Webhook-Id, X-GitHub-Delivery) is not signed,
so whoever captured a request could send it again as a new event. Their events are also deduplicated on the
SHA-256 of the body for REPLAY_WINDOW: a unique index on (source, body digest) makes a second copy a duplicate of
the first, whatever delivery id it carries; a copy older than the window is forgotten when the same body comes
again, and the body is then a new event. Stripe and Standard Webhooks sign their id and a timestamp; Zoho's id is
a hash of the body unless a body field names it. A generic source that signs the body only is treated as Shopify is.
"""

import hashlib
from datetime import timedelta

from sqlalchemy import bindparam, update

from app.models.inbound import InboundEvent, Provider

#: How long a body, once received, makes the same body from the same source a duplicate.
REPLAY_WINDOW = timedelta(hours=24)
#: The providers whose signature covers the body only.
BODY_SIGNED = frozenset((Provider.SHOPIFY, Provider.GITHUB))

_events = InboundEvent.__table__
_FORGET = (update(_events).where(_events.c.source_id == bindparam("b_source_id"),
                                 _events.c.body_digest == bindparam("b_body_digest"),
                                 _events.c.received_at < bindparam("b_since"))
           .values(body_digest=None))


def body_digest(provider, body, options=None):
    """Return the digest a body is deduplicated on (hex SHA-256), or None for a provider that signs its id (a generic
    source signs the body only unless its options sign a timestamp too)."""
    provider = Provider(provider)
    signs_body_only = provider in BODY_SIGNED or (provider is Provider.GENERIC
                                                  and (options or {}).get("signed", "body") == "body")
    return hashlib.sha256(body).hexdigest() if signs_body_only else None


def since(now):
    """The earliest receiving time whose body still makes a copy a duplicate."""
    return now - REPLAY_WINDOW


def forget_expired(connection, source_id, digest, now):
    """Forget the digest of the source's event with this body when it is older than the window; say whether one
    was (the body may then be stored as a new event)."""
    if digest is None:
        return False
    return connection.execute(_FORGET, {"b_source_id": source_id, "b_body_digest": digest,
                                        "b_since": since(now)}).rowcount > 0
