"""Shopify: X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of the raw body under the app's (or the store's)
secret, with no timestamp. Each delivery is named by X-Shopify-Webhook-Id, the deduplication key; the newer
"Events" deliveries drop the X- prefix, and both spellings are accepted."""

import base64

from app.credentials.signatures import text_keyed_digest
from app.inbound.providers.base import Verified, bad, equal, event_id, header, missing, optional

SIGNATURE = ("X-Shopify-Hmac-Sha256", "Shopify-Hmac-Sha256")
WEBHOOK_ID = ("X-Shopify-Webhook-Id", "Shopify-Webhook-Id")
EVENT_ID = ("X-Shopify-Event-Id", "Shopify-Event-Id")
TOPIC = ("X-Shopify-Topic", "Shopify-Topic")
#: Body fields staff find an event by: the resource id, the order number (1001), its name (#1001).
HANDLE_PATHS = ("id", "order_number", "name", "order_id", "admin_graphql_api_id")


def signature(secret, body):
    """Return Shopify's signature of body: base64 HMAC-SHA256 keyed by the secret's text."""
    return base64.b64encode(text_keyed_digest(secret, body))


def verify(source, secrets, headers, body, now):
    """Check the HMAC against every live secret (Shopify signs with the old one for up to an hour after a rotation)."""
    given = header(headers, *SIGNATURE)
    if given is None:
        raise missing(SIGNATURE[0])
    if not any(equal(signature(secret, body), given) for secret in secrets):
        raise bad(SIGNATURE[0])
    return Verified(event_id(header(headers, *WEBHOOK_ID), WEBHOOK_ID[0]), optional(header(headers, *EVENT_ID)),
                    optional(header(headers, *TOPIC), 200))
