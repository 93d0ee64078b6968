"""Shopify: X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of the raw body under the app's (or the store's)
secret, with no timestamp. Each delivery is named by X-Shopify-Webhook-Id; one app serves many shops, so the
deduplication key is "<X-Shopify-Shop-Domain>/<X-Shopify-Webhook-Id>" (the webhook id alone without a shop
domain), and the shop domain and the webhook id are search handles. A source may list the shops it accepts
(options "shops"); the shop domain is not signed, so the list sorts shops, it does not authenticate them. The
newer "Events" deliveries drop the X- prefix, and both spellings are accepted."""

import base64
import re

from app.credentials.signatures import text_keyed_digest
from app.errors import InboundRejected
from app.inbound.providers.base import (
    MAX_ID_LENGTH,
    Verified,
    bad,
    equal,
    event_id,
    header,
    malformed,
    missing,
    optional,
)

SIGNATURE = ("X-Shopify-Hmac-Sha256", "Shopify-Hmac-Sha256")
WEBHOOK_ID = ("X-Shopify-Webhook-Id", "Shopify-Webhook-Id")
EVENT_ID = ("X-Shopify-Event-Id", "Shopify-Event-Id")
TOPIC = ("X-Shopify-Topic", "Shopify-Topic")
SHOP_HEADER = ("X-Shopify-Shop-Domain", "Shopify-Shop-Domain")
#: A shop domain, as SHOP_HEADER carries it (lower-cased).
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$")
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
    shop = _shop(source, headers)
    webhook_id = event_id(header(headers, *WEBHOOK_ID), WEBHOOK_ID[0])
    if shop and len(shop) + 1 + len(webhook_id) > MAX_ID_LENGTH:
        raise malformed(f"{WEBHOOK_ID[0]} is longer than {MAX_ID_LENGTH - len(shop) - 1} characters")
    return Verified(f"{shop}/{webhook_id}" if shop else webhook_id, optional(header(headers, *EVENT_ID)),
                    optional(header(headers, *TOPIC), 200), (shop, webhook_id) if shop else ())


def _shop(source, headers):
    """The shop domain the request names (lower-cased), or None; refuse one the source does not accept."""
    shop = header(headers, *SHOP_HEADER)
    shop = shop.lower() if shop else None
    if shop is not None and not SHOP_DOMAIN.fullmatch(shop):
        raise malformed(f"{SHOP_HEADER[0]} is not a shop domain such as my-store.myshopify.com")
    accepted = (source.options or {}).get("shops")
    if accepted and shop not in accepted:
        raise InboundRejected("unknown_shop", 403, f"this source does not accept the shop {shop or '(none named)'}")
    return shop
