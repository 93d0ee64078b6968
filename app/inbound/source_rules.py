"""Validation of inbound source settings: each check returns the clean value or raises InvalidInput."""

import base64
import binascii
import re
import secrets as _random

from flask_babel import lazy_gettext as _l

from app.checks import check_choice, check_flag, check_whole_number
from app.credentials import signatures
from app.errors import InvalidInput
from app.inbound.providers.shopify import SHOP_DOMAIN
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
#: The most shops one Shopify source may list.
MAX_SHOPS = 1000
#: The options a generic source takes.
GENERIC_OPTIONS = ("signature_header", "algorithm", "encoding", "prefix", "signed", "timestamp_header",
                   "content_prefix", "separator", "event_id_header", "event_id_path", "topic_header", "topic_path")
#: A prefix or separator of a generic scheme: printable ASCII without spaces or commas (which separate signatures).
OPTION_TEXT = re.compile(r"^[\x21-\x2b\x2d-\x7e]*$")
#: The header a Zoho shared token comes in when the source names none.
DEFAULT_TOKEN_HEADER = "Authorization"


def check_name(value):
    """A URL-safe source name: lower-case letters, digits, "_" and "-", 1 to 64, starting with a letter or digit."""
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise InvalidInput(_l("name must be 1 to 64 lower-case letters, digits, '_' or '-', starting with a letter "
                              "or digit (it becomes the URL /inbound/<name>)"), field="name")
    return value


def check_provider(value):
    """One of the providers Hookyard verifies."""
    return check_choice(Provider, value, _l("provider must be one of %(choices)s",
                                                choices=", ".join(p.value for p in Provider)), "provider")


def check_state(value):
    """enabled, paused or disabled."""
    return check_choice(SourceState, value, _l("state must be enabled, paused or disabled"), "state")


#: A source's silence window, in minutes: from 5 minutes to a week.
MIN_SILENCE_MINUTES, MAX_SILENCE_MINUTES = 5, 10_080


def check_silence(value):
    """Minutes without a request before a source is said to be silent: None (never), or 5 to 10080."""
    return check_whole_number(value, "silence_alert_minutes", MIN_SILENCE_MINUTES, MAX_SILENCE_MINUTES,
                              nullable=True)


def check_tolerance(value):
    """Seconds a signed timestamp may be old: a whole number from 1 to 86400."""
    return check_whole_number(value, "tolerance_seconds", MIN_TOLERANCE_SECONDS, MAX_TOLERANCE_SECONDS)


def check_forward(value):
    return check_flag(value, "forward")


def check_secret(provider, value, field="secret"):
    """A secret pasted from the provider: printable ASCII without spaces; a Standard Webhooks one is whsec_ +
    base64 of at least 16 bytes, as its library reads it."""
    if isinstance(value, str):
        value = value.strip()  # a secret copied with a trailing line break
    if not isinstance(value, str) or not SECRET.fullmatch(value):
        raise InvalidInput(_l("%(field)s must be 8 to 500 printable characters without spaces", field=field),
                           field=field)
    if provider is Provider.STANDARD:
        key = value.removeprefix("whsec_")
        try:
            raw = base64.b64decode(key + "=" * (-len(key) % 4), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) < MIN_STANDARD_KEY_BYTES:
            raise InvalidInput(_l("%(field)s of a Standard Webhooks source must be whsec_ followed by base64 of at "
                                  "least %(min_standard_key_bytes)s bytes",
                                  field=field, min_standard_key_bytes=MIN_STANDARD_KEY_BYTES), field=field)
    return value


def generate_secret(provider):
    """A new secret for a source: whsec_ + base64 (Standard Webhooks' form, which the others take as-is); Zoho
    gets 48 hex digits, which fits Zoho's "12 to 50 letters and digits"."""
    return _random.token_hex(24) if provider is Provider.ZOHO else signatures.generate_secret()


def check_options(provider, value):
    """Provider options: Zoho's token header and event id field, Shopify's accepted shops, and how a generic
    sender signs; the others take none."""
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise InvalidInput(_l("options must be an object"), field="options")
    checks = {Provider.ZOHO: check_zoho_options, Provider.SHOPIFY: check_shopify_options,
              Provider.GENERIC: check_generic_options}
    if provider not in checks:
        if value:
            raise InvalidInput(_l("a %(provider)s source takes no options", provider=provider.value), field="options")
        return {}
    return checks[provider](value)


def _known_options(value, names, provider):
    unknown = sorted(set(value) - set(names))
    if unknown:
        raise InvalidInput(_l("unknown %(provider)s options: %(unknown)s (%(names)s)",
                              provider=provider, unknown=', '.join(unknown), names=', '.join(names)), field="options")


def _matching(value, name, pattern, what):
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidInput(_l("options.%(name)s must be %(what)s", name=name, what=what), field="options")
    return value


def _path(value, name):
    return _matching(value, name, JSON_PATH, _l("a dotted JSON path such as id or data.event_id"))


def _header_name(value, name):
    return _matching(value, name, HEADER_NAME, _l("an HTTP header name"))


def check_zoho_options(value):
    """Zoho: token_header (default Authorization) and event_id_field (a dotted JSON path; without it an event's id
    is a hash of its body)."""
    _known_options(value, ("token_header", "event_id_field"), "Zoho")
    clean = {"token_header": _header_name(value.get("token_header") or DEFAULT_TOKEN_HEADER, "token_header")}
    if value.get("event_id_field") is not None:
        clean["event_id_field"] = _path(value["event_id_field"], "event_id_field")
    return clean


def check_shopify_options(value):
    """Shopify: shops, the shop domains (name.myshopify.com) the source accepts; none listed accepts any."""
    _known_options(value, ("shops",), "Shopify")
    shops = value.get("shops") or []
    if not isinstance(shops, list) or len(shops) > MAX_SHOPS or not all(
            isinstance(shop, str) and SHOP_DOMAIN.fullmatch(shop.strip().lower()) for shop in shops):
        raise InvalidInput(_l("options.shops must list at most %(max_shops)s shop domains such as "
                              "my-store.myshopify.com", max_shops=MAX_SHOPS), field="options")
    clean = sorted({shop.strip().lower() for shop in shops})
    return {"shops": clean} if clean else {}


def _text_option(value, name, limit, default):
    value = default if value is None else value
    if not isinstance(value, str) or len(value) > limit or not OPTION_TEXT.fullmatch(value):
        raise InvalidInput(_l("options.%(name)s must be at most %(limit)s printable ASCII characters without spaces "
                              "or commas", name=name, limit=limit), field="options")
    return value


def _one_of(value, name, choices):
    if value not in choices:
        raise InvalidInput(_l("options.%(name)s must be one of %(choices)s", name=name, choices=', '.join(choices)),
                           field="options")
    return value


def check_generic_options(value):
    """A generic sender: signature_header, algorithm, encoding, prefix, signed (body, or timestamp_body with
    timestamp_header, content_prefix and separator), the event id's and the topic's header or JSON path."""
    _known_options(value, GENERIC_OPTIONS, "generic")
    clean = {"signature_header": _header_name(value.get("signature_header"), "signature_header"),
             "algorithm": _one_of(value.get("algorithm", "sha256"), "algorithm", tuple(signatures.ALGORITHMS)),
             "encoding": _one_of(value.get("encoding", "hex"), "encoding", ("hex", "base64")),
             "prefix": _text_option(value.get("prefix"), "prefix", 50, ""),
             "signed": _one_of(value.get("signed", "body"), "signed", ("body", "timestamp_body"))}
    if clean["signed"] == "timestamp_body":
        clean["timestamp_header"] = _header_name(value.get("timestamp_header"), "timestamp_header")
        clean["content_prefix"] = _text_option(value.get("content_prefix"), "content_prefix", 50, "")
        clean["separator"] = _text_option(value.get("separator"), "separator", 10, ".")
    elif any(value.get(name) is not None for name in ("timestamp_header", "content_prefix", "separator")):
        raise InvalidInput(_l("options.timestamp_header, content_prefix and separator need signed: timestamp_body"),
                           field="options")
    for name in ("event_id", "topic"):
        by_header, by_path = value.get(f"{name}_header"), value.get(f"{name}_path")
        if by_header is not None and by_path is not None:
            raise InvalidInput(_l("options: give %(name)s_header or %(name)s_path, not both", name=name),
                               field="options")
        if by_header is not None:
            clean[f"{name}_header"] = _header_name(by_header, f"{name}_header")
        if by_path is not None:
            clean[f"{name}_path"] = _path(by_path, f"{name}_path")
    return clean
