"""Inbound request headers as they are stored: credentials masked (app.credentials.masking's deny-list), size bounded,
storable in any database."""

from app.credentials.masking import SECRET_MASK, is_credential

#: At most this many headers, each value at most this long, are kept.
MAX_HEADERS, MAX_VALUE_LENGTH = 100, 1000
#: The only headers kept of a request whose source is unknown (its credential header cannot be known): the body's
#: form and the providers' topic and id headers, which carry no secret.
HARMLESS = frozenset(name.lower() for name in (
    "Content-Type", "Content-Length", "User-Agent",
    "X-Shopify-Topic", "X-Shopify-Webhook-Id", "X-Shopify-Event-Id", "X-Shopify-Shop-Domain",
    "X-Shopify-API-Version", "X-Shopify-Triggered-At", "Shopify-Topic", "Shopify-Webhook-Id", "Shopify-Event-Id",
    "Shopify-Shop-Domain", "Shopify-API-Version", "Shopify-Triggered-At",
    "X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "webhook-id", "webhook-timestamp", "X-Zoho-Event"))


def masked(headers, also=()):
    """Return headers (pairs or a mapping) as {name: value} with credentials masked; also names more header names
    to mask (a Zoho source's own token header)."""
    extra = {name.lower() for name in also}
    pairs = headers.items() if hasattr(headers, "items") else headers
    kept = {}
    for name, value in pairs:
        if len(kept) >= MAX_HEADERS:
            break
        name = _clean(name)[:200]
        kept[name] = SECRET_MASK if is_credential(name, extra) else _clean(value)[:MAX_VALUE_LENGTH]
    return kept


def harmless(headers):
    """Return only the HARMLESS headers of headers (pairs or a mapping), as masked() stores them."""
    pairs = headers.items() if hasattr(headers, "items") else headers
    return masked([(name, value) for name, value in pairs if str(name).lower() in HARMLESS])


def _clean(text):
    # PostgreSQL stores no NUL character in text or JSON.
    return str(text).replace("\x00", "\ufffd")
