"""Validation of inbound source settings: each check returns the clean value or raises InvalidInput."""

import base64
import binascii
import re
import secrets as _random

from app.credentials import signatures
from app.errors import InvalidInput
from app.models import Provider, SourceState
from app.text import HEADER_NAME

#: A source name: the last part of its receiving URL, /inbound/<name>.
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: A verification secret someone pastes: printable ASCII without spaces (Shopify, Stripe whsec_, GitHub, tokens).
SECRET = re.compile(r"^[\x21-\x7e]{8,500}$")
#: The fewest key bytes a Standard Webhooks secret may hold (the specification asks for 24 to 64).
MIN_STANDARD_KEY_BYTES = 16
#: Tolerance for signed timestamps (Stripe, Standard Webhooks): one second to one day.
MIN_TOLERANCE_SECONDS, MAX_TOLERANCE_SECONDS = 1, 86_400
#: A dotted JSON path into the body, e.g. "id" or "data.event_id".
JSON_PATH = re.compile(r"^[A-Za-z0-9_$-]{1,100}(\.[A-Za-z0-9_$-]{1,100}){0,9}$")
#: The header a Zoho shared token comes in when the source names none.
DEFAULT_TOKEN_HEADER = "Authorization"


def check_name(value):
    """A URL-safe source name: lower-case letters, digits, "_" and "-", 1 to 64, starting with a letter or digit."""
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise InvalidInput("name must be 1 to 64 lower-case letters, digits, '_' or '-', starting with a letter or "
                           "digit (it becomes the URL /inbound/<name>)", field="name")
    return value


def check_provider(value):
    """One of the providers Hookyard verifies."""
    try:
        return Provider(value.value if isinstance(value, Provider) else value)
    except (ValueError, TypeError):
        raise InvalidInput(f"provider must be one of {', '.join(p.value for p in Provider)}",
                           field="provider") from None


def check_state(value):
    """enabled, paused or disabled."""
    try:
        return SourceState(value.value if isinstance(value, SourceState) else value)
    except (ValueError, TypeError):
        raise InvalidInput("state must be enabled, paused or disabled", field="state") from None


#: A source's silence window, in minutes: from 5 minutes to a week.
MIN_SILENCE_MINUTES, MAX_SILENCE_MINUTES = 5, 10_080


def check_silence(value):
    """Minutes without a request before a source is said to be silent: None (never), or 5 to 10080."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not (
            MIN_SILENCE_MINUTES <= value <= MAX_SILENCE_MINUTES):
        raise InvalidInput(f"silence_alert_minutes must be a whole number from {MIN_SILENCE_MINUTES} to "
                           f"{MAX_SILENCE_MINUTES}, or null", field="silence_alert_minutes")
    return value


def check_tolerance(value):
    """Seconds a signed timestamp may be old: a whole number from 1 to 86400."""
    if not isinstance(value, int) or isinstance(value, bool) or not (
            MIN_TOLERANCE_SECONDS <= value <= MAX_TOLERANCE_SECONDS):
        raise InvalidInput(f"tolerance_seconds must be a whole number from {MIN_TOLERANCE_SECONDS} to "
                           f"{MAX_TOLERANCE_SECONDS}", field="tolerance_seconds")
    return value


def check_forward(value):
    if not isinstance(value, bool):
        raise InvalidInput("forward must be true or false", field="forward")
    return value


def check_secret(provider, value, field="secret"):
    """A secret pasted from the provider: printable ASCII without spaces; a Standard Webhooks one is whsec_ +
    base64 of at least 16 bytes, as its library reads it."""
    if isinstance(value, str):
        value = value.strip()  # a secret copied with a trailing line break
    if not isinstance(value, str) or not SECRET.fullmatch(value):
        raise InvalidInput(f"{field} must be 8 to 500 printable characters without spaces", field=field)
    if provider is Provider.STANDARD:
        key = value.removeprefix("whsec_")
        try:
            raw = base64.b64decode(key + "=" * (-len(key) % 4), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) < MIN_STANDARD_KEY_BYTES:
            raise InvalidInput(f"{field} of a Standard Webhooks source must be whsec_ followed by base64 of at least "
                               f"{MIN_STANDARD_KEY_BYTES} bytes", field=field)
    return value


def generate_secret(provider):
    """A new secret for a source: whsec_ + base64 (Standard Webhooks' form, which the others take as-is); Zoho
    gets 48 hex digits, which fits Zoho's "12 to 50 letters and digits"."""
    return _random.token_hex(24) if provider is Provider.ZOHO else signatures.generate_secret()


def check_options(provider, value):
    """Provider options: Zoho takes token_header (default Authorization) and event_id_field (a dotted JSON path;
    without it an event's id is a hash of its body); the others take none."""
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise InvalidInput("options must be an object", field="options")
    if provider is not Provider.ZOHO:
        if value:
            raise InvalidInput(f"a {provider.value} source takes no options", field="options")
        return {}
    unknown = sorted(set(value) - {"token_header", "event_id_field"})
    if unknown:
        raise InvalidInput(f"unknown Zoho options: {', '.join(unknown)} (token_header, event_id_field)",
                           field="options")
    header = value.get("token_header") or DEFAULT_TOKEN_HEADER
    if not isinstance(header, str) or not HEADER_NAME.fullmatch(header):
        raise InvalidInput("options.token_header must be an HTTP header name", field="options")
    clean = {"token_header": header}
    path = value.get("event_id_field")
    if path is not None:
        if not isinstance(path, str) or not JSON_PATH.fullmatch(path):
            raise InvalidInput("options.event_id_field must be a dotted JSON path such as id or data.event_id",
                               field="options")
        clean["event_id_field"] = path
    return clean
