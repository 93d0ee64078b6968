"""What every provider's verifier shares: the verified result, the refusals, constant-time comparison."""

import hmac
import json
from dataclasses import dataclass

from app.errors import InboundRejected
from app.text import MAX_JSON_DEPTH, json_depth

#: Longest provider id stored (the column's size); a longer one is refused rather than cut, as cutting two
#: different ids could make them one.
MAX_ID_LENGTH = 255
#: Longest topic stored (the column's size).
MAX_TOPIC_LENGTH = 200


@dataclass(frozen=True)
class Verified:
    """What a verified request says about itself: the deduplication id, a second id worth keeping, the topic."""

    provider_event_id: str
    provider_event_ref: str | None
    topic: str | None
    #: Further search handles the request's headers give (Shopify's shop domain).
    handles: tuple = ()


def missing(header):
    """The refusal of a request that carries no signature at all."""
    return InboundRejected("missing_signature", 401, f"the {header} header is missing")


def bad(header):
    """The refusal of a request whose signature matches none of the source's secrets."""
    return InboundRejected("bad_signature", 401, f"the {header} signature does not match the source's secret")


def stale(age_seconds, tolerance_seconds):
    """The refusal of a correctly signed request whose signed time is outside the tolerance."""
    return InboundRejected("stale", 400, f"the signed timestamp is {age_seconds:.0f} s away from now; at most "
                                         f"{tolerance_seconds} s is accepted")


def malformed(message):
    """The refusal of a request that is authentic but lacks what identifies the event."""
    return InboundRejected("malformed", 400, message)


def check_depth(body):
    """Refuse a JSON body nested deeper than MAX_JSON_DEPTH (the outbound payloads' limit); a body that is not JSON
    passes."""
    if body.count(b"{") + body.count(b"[") <= MAX_JSON_DEPTH:
        return  # it cannot nest deeper than it has brackets: most bodies are never parsed here
    try:
        deep = json_depth(json.loads(body)) > MAX_JSON_DEPTH
    except RecursionError:  # nested past what the parser reads
        deep = True
    except (ValueError, UnicodeDecodeError):
        deep = False
    if deep:
        raise InboundRejected("too_deep", 400, f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")


def header(headers, *names):
    """Return the first of the header names present (case-insensitive), stripped, or None."""
    for name in names:
        value = headers.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def equal(expected, given):
    """Compare two signatures in constant time; str or bytes, any characters."""
    as_bytes = [v if isinstance(v, bytes) else v.encode("utf-8", "replace") for v in (expected, given)]
    return hmac.compare_digest(*as_bytes)


def event_id(value, what):
    """Return value as a provider id, or refuse the request when it is missing or too long."""
    text = None if value is None or isinstance(value, (dict, list, bool)) else str(value).strip()
    if not text:
        raise malformed(f"{what} is missing: it identifies the event")
    if len(text) > MAX_ID_LENGTH:
        raise malformed(f"{what} is longer than {MAX_ID_LENGTH} characters")
    return text


def optional(value, length=MAX_ID_LENGTH):
    """Return value as text cut to length, or None when it is empty."""
    text = None if value is None or isinstance(value, (dict, list)) else str(value).strip()
    return text[:length] if text else None


def json_object(body):
    """Return the body parsed as a JSON object, or None when it is not one."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None
