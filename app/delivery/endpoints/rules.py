"""Validation of endpoint settings: each check returns the clean value or raises InvalidInput."""

import re

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.checks import check_choice, check_whole_number
from app.credentials.masking import MASK
from app.delivery.formats import TemplateFailed, compile_template
from app.errors import InvalidInput
from app.models import OrderingFailure, PayloadContentType, PayloadFormat
from app.text import HEADER_NAME

#: Header names that would break signing or HTTP if a person set them.
FORBIDDEN_HEADERS = frozenset({
    "host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection", "keep-alive",
    "upgrade", "te", "trailer", "expect", "user-agent", "proxy-authorization", "x-webhook-secret",
    "x-webhook-signature",
})
FORBIDDEN_PREFIXES = ("webhook-", "proxy-", "sec-")
#: A header value HTTP can carry and a person can read: printable ASCII and spaces (no NUL, CR or LF).
HEADER_VALUE = re.compile(r"^[\x20-\x7e]{0,4096}$")
MAX_HEADERS = 20
#: Bounds of the numeric settings (the API's schema states the same, from these).
MAX_ATTEMPTS = 50
MAX_RATE_LIMIT = 10_000
#: Largest max_in_flight an endpoint may set.
MAX_IN_FLIGHT = 1000
MAX_SCHEDULE_STEPS = 20
MAX_SCHEDULE_DELAY_SECONDS = 604_800



def check_timeout(value):
    return check_whole_number(value, "timeout_seconds", 1, current_app.config["WEBHOOK_MAX_TIMEOUT_SECONDS"])


def check_max_attempts(value):
    return check_whole_number(value, "max_attempts", 1, MAX_ATTEMPTS)


def check_rate_limit(value):
    return None if value is None else check_whole_number(value, "rate_limit_per_second", 1, MAX_RATE_LIMIT)


def check_max_in_flight(value):
    """Worker slots the endpoint may hold at once; None uses WEBHOOK_MAX_IN_FLIGHT."""
    return None if value is None else check_whole_number(value, "max_in_flight", 1, MAX_IN_FLIGHT)


def check_ordering_failure(value):
    """What a failed-for-good delivery with an ordering key does to the rest of its key; None is hold (the default)."""
    if value is None:
        return OrderingFailure.HOLD
    return check_choice(OrderingFailure, value, _l("ordering_failure must be hold or skip"), "ordering_failure")


def check_schedule(value):
    """A retry schedule override: a list of 1-20 delays in seconds, each from 1 s to 7 days; None clears it."""
    if value is None:
        return None
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_SCHEDULE_STEPS
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and 1 <= v <= MAX_SCHEDULE_DELAY_SECONDS
                       for v in value)):
        raise InvalidInput(_l("retry_schedule must list 1 to %(max_steps)s delays in seconds, each from 1 to "
                              "%(max_delay)s", max_steps=MAX_SCHEDULE_STEPS, max_delay=MAX_SCHEDULE_DELAY_SECONDS),
                           field="retry_schedule")
    return [int(v) if float(v).is_integer() else float(v) for v in value]


#: An email address: something@domain, one line, no spaces (the mail server has the last word).
EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")


def check_email(value):
    """An endpoint's partner contact address (None or empty: none)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 254 or not EMAIL.fullmatch(value):
        raise InvalidInput(_l("partner_email must be an email address"), field="partner_email")
    return value


def check_headers(value):
    """Custom headers {name: value}; refuses names that would break signing or HTTP, and values HTTP cannot
    carry (NUL, CR, LF, other control or non-ASCII characters, over 4096 characters)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_HEADERS:
        raise InvalidInput(_l("headers must be an object of at most %(max_headers)s names and values",
                              max_headers=MAX_HEADERS), field="headers")
    clean = {}
    for name, text in value.items():
        lowered = name.lower() if isinstance(name, str) else ""
        if not HEADER_NAME.fullmatch(lowered):
            raise InvalidInput(_l("headers: %(name)s is not a valid header name", name=repr(name)), field="headers")
        if lowered in FORBIDDEN_HEADERS or lowered.startswith(FORBIDDEN_PREFIXES):
            raise InvalidInput(_l("headers: %(name)s is set by Hookyard and cannot be overridden", name=name),
                               field="headers")
        if not isinstance(text, str) or not HEADER_VALUE.fullmatch(text):
            raise InvalidInput(_l("headers: the value of %(name)s must be one line of printable ASCII, at most 4096 "
                                  "characters", name=name), field="headers")
        clean[name] = text
    return clean


def keep_masked(headers, stored):
    """Replace each value sent back as MASK by the stored value of that header (an admin replaces a value,
    never reads it); a masked value with nothing stored under its name is refused."""
    kept = {}
    for name, value in headers.items():
        if value == MASK and name not in (stored or {}):
            raise InvalidInput(_l("headers: give %(name)s a value (it has none stored)", name=name), field="headers")
        kept[name] = stored[name] if value == MASK else value
    return kept



def one_of(enum_class, value, field):
    """value as a member of enum_class, else InvalidInput naming the choices."""
    return check_choice(enum_class, value, _l("%(field)s must be one of %(choices)s", field=field,
                                                choices=", ".join(m.value for m in enum_class)), field)


def check_payload_format(value):
    return one_of(PayloadFormat, value, "payload_format")


def check_payload_content_type(value):
    return one_of(PayloadContentType, value, "payload_content_type")


def check_payload_template(value):
    """A Jinja2 payload template that compiles in the sandbox (None or blank clears it)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(_l("payload_template must be text"), field="payload_template")
    try:
        compile_template(value)
    except TemplateFailed as exc:
        raise InvalidInput(_l("payload_template: %(message)s", message=exc.message), field="payload_template") from None
    return value


def check_payload_settings(payload_format, content_type, template):
    """The three payload settings together: the template format needs a template; standard sends JSON."""
    if payload_format is PayloadFormat.TEMPLATE and not template:
        raise InvalidInput(_l("payload_template: the template format needs a template"), field="payload_template")
    if payload_format is PayloadFormat.STANDARD and content_type is not PayloadContentType.JSON:
        raise InvalidInput(_l("payload_content_type: the standard format sends the payload as JSON; pick a preset or"
                              " a template to send a form"), field="payload_content_type")
