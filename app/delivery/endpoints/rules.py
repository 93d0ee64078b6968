"""Validation of endpoint settings: each check returns the clean value or raises InvalidInput."""

import re

from flask import current_app

from app.errors import InvalidInput

#: Header names that would break signing or HTTP if a person set them.
FORBIDDEN_HEADERS = frozenset({
    "host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection", "keep-alive",
    "upgrade", "te", "trailer", "expect", "user-agent", "proxy-authorization", "x-webhook-secret",
    "x-webhook-signature",
})
FORBIDDEN_PREFIXES = ("webhook-", "proxy-", "sec-")
#: An HTTP header name (RFC 9110 token).
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
#: Header names whose values are credentials: masked in pages, audit entries and attempt records.
SENSITIVE_HEADER = re.compile(r"authorization|cookie|token|secret|key|password|credential", re.I)
MAX_HEADERS = 20


def _whole_number(value, field, low, high):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{field} must be a whole number from {low} to {high}", field=field)
    return value


def check_timeout(value):
    return _whole_number(value, "timeout_seconds", 1, current_app.config["WEBHOOK_MAX_TIMEOUT_SECONDS"])


def check_max_attempts(value):
    return _whole_number(value, "max_attempts", 1, 50)


def check_rate_limit(value):
    return None if value is None else _whole_number(value, "rate_limit_per_second", 1, 10_000)


def check_text(value, field, limit):
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{field} must be text of at most {limit} characters", field=field)
    return value.strip() or None


def check_schedule(value):
    """A retry schedule override: a list of 1-20 delays in seconds, each from 1 s to 7 days; None clears it."""
    if value is None:
        return None
    if (not isinstance(value, list) or not 1 <= len(value) <= 20
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and 1 <= v <= 604_800 for v in value)):
        raise InvalidInput("retry_schedule must list 1 to 20 delays in seconds, each from 1 to 604800",
                           field="retry_schedule")
    return [int(v) if float(v).is_integer() else float(v) for v in value]


def check_headers(value):
    """Custom headers {name: value}; refuses names that would break signing or HTTP."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_HEADERS:
        raise InvalidInput(f"headers must be an object of at most {MAX_HEADERS} names and values", field="headers")
    clean = {}
    for name, text in value.items():
        lowered = name.lower() if isinstance(name, str) else ""
        if not HEADER_NAME.match(lowered):
            raise InvalidInput(f"headers: {name!r} is not a valid header name", field="headers")
        if lowered in FORBIDDEN_HEADERS or lowered.startswith(FORBIDDEN_PREFIXES):
            raise InvalidInput(f"headers: {name} is set by Hookyard and cannot be overridden", field="headers")
        if not isinstance(text, str) or len(text) > 4096 or "\r" in text or "\n" in text:
            raise InvalidInput(f"headers: the value of {name} must be one line of text", field="headers")
        clean[name] = text
    return clean


def mask_headers(headers):
    """Headers with credential values (X-Webhook-Secret, Authorization, API keys...) replaced, for display,
    audit entries and attempt records."""
    return {name: "••••••••" if SENSITIVE_HEADER.search(name) else value for name, value in (headers or {}).items()}
