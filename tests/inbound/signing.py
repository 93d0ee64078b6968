"""Sign inbound test requests as each provider does, with the providers' own libraries where there is one."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import standardwebhooks
import stripe


def body_of(payload):
    """Serialise a payload the way a provider might: compact, with non-ASCII kept as UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


#: The shop the Shopify test requests come from.
SHOP = "shop.myshopify.com"


def shopify_id(webhook_id):
    """The provider event id of a Shopify delivery from SHOP: the shop domain, then the webhook id."""
    return f"{SHOP}/{webhook_id}"


def shopify(secret, body, *, webhook_id="wh-1", topic="orders/create", event_id="ev-1", prefixed=True):
    """Shopify's headers: base64 HMAC-SHA256 of the raw body, as Shopify's own libraries compute it."""
    p = "X-Shopify-" if prefixed else "Shopify-"
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {f"{p}Hmac-Sha256": digest, f"{p}Webhook-Id": webhook_id, f"{p}Topic": topic, f"{p}Event-Id": event_id,
            f"{p}Shop-Domain": SHOP, "Content-Type": "application/json"}


def stripe_headers(secret, body, *, timestamp=None, extra_secrets=()):
    """Stripe's Stripe-Signature, computed by the stripe package (one v1 per secret, as during a roll)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.{body.decode()}"
    v1s = [stripe.WebhookSignature._compute_signature(signed, s) for s in (secret, *extra_secrets)]
    return {"Stripe-Signature": ",".join([f"t={timestamp}", *(f"v1={v}" for v in v1s)]),
            "Content-Type": "application/json"}


def standard(secret, body, *, msg_id="msg_1", timestamp=None):
    """Standard Webhooks headers, signed by the standardwebhooks library."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = standardwebhooks.Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature,
            "Content-Type": "application/json"}


def github(secret, body, *, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958", event="push"):
    """GitHub's headers: sha256=<hex HMAC-SHA256 of the raw body>."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Delivery": delivery, "X-GitHub-Event": event,
            "X-GitHub-Hook-ID": "42", "Content-Type": "application/json"}
