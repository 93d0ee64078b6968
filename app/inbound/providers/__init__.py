"""Verify an inbound request by its provider's rules, over the raw body bytes and before any JSON is trusted.

verify() returns Verified(provider_event_id, provider_event_ref, topic) or raises app.errors.InboundRejected
(missing_signature and bad_signature: 401; stale and malformed: 400). Every comparison is constant-time and
every live secret of the source is tried (current, then retired ones still in their grace period).
"""

from werkzeug.datastructures import Headers

from app.inbound.providers import generic, github, shopify, standard, stripe, zoho
from app.inbound.providers.base import Verified, check_depth
from app.models.inbound import Provider

__all__ = ["Verified", "handle_paths", "masked_header_names", "verify"]

#: Each provider's verifier module.
MODULES = {Provider.SHOPIFY: shopify, Provider.STRIPE: stripe, Provider.STANDARD: standard,
           Provider.GITHUB: github, Provider.ZOHO: zoho, Provider.GENERIC: generic}


def verify(source, secrets, headers, body, now):
    """Verify one request; source has provider, tolerance_seconds and options; now is an aware datetime. An
    authentic JSON body nested too deep is refused too (too_deep, 400)."""
    if isinstance(headers, dict):
        headers = Headers(headers)  # case-insensitive look-ups, as a request's own headers are
    verified = MODULES[Provider(source.provider)].verify(source, secrets, headers, body, now)
    check_depth(body)
    return verified


def handle_paths(provider):
    """Return the body fields (dotted paths) staff usually find this provider's events by."""
    return MODULES[Provider(provider)].HANDLE_PATHS


def masked_header_names(source):
    """Return header names holding this source's credential beyond the usual ones (Zoho's token header, a generic
    source's signature header)."""
    provider = Provider(source.provider)
    if provider is Provider.ZOHO:
        return (zoho.token_header(source),)
    if provider is Provider.GENERIC and (source.options or {}).get("signature_header"):
        return (source.options["signature_header"],)
    return ()
