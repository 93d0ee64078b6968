"""What the event catalog holds and how a payload is held to it: a JSON Schema (2020-12) checked when it is saved,
compiled once per (event type, revision) and applied at intake, refusing a payload with the field and the rule.

Every intake (API, batch items, send_message(), the console's send-event form, edit and resend) goes through
app.delivery.message_rules.check_message, which calls check_payload. Event types Hookyard sends itself and events
forwarded from inbound sources are never held to the catalog.
"""

import json
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match
from sqlalchemy import select, text

from app.delivery.schema_fast import compile_fast
from app.errors import InvalidInput
from app.extensions import db
from app.models.catalog import CATALOG_TOKEN, EventType
from app.models.change_token import current_token_sql
from app.text import MAX_JSON_DEPTH, json_depth

#: The dialect every schema is read as; a schema naming another $schema is refused.
DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Event types Hookyard itself sends (an endpoint's test event, the deploy smoke test): never held to the catalog.
OWN_EVENT_TYPES = frozenset({"webhook.test", "hookyard.smoke"})
#: Largest schema or example, in bytes of JSON.
MAX_DOCUMENT_BYTES = 64 * 1024
#: Compiled validators kept per process; a changed event type has a new revision, so no entry is ever stale.
MAX_CACHED_VALIDATORS = 512
#: The longest rule a refusal quotes (a type error quotes the whole value it refused).
MAX_ERROR_LENGTH = 300

_validators = OrderedDict()


def check_schema(schema):
    """Return schema if it is a JSON Schema (2020-12) Hookyard can apply; raise InvalidInput (field schema) naming
    where it is wrong. References must stay inside the schema (#...): nothing is fetched."""
    if not isinstance(schema, dict | bool):
        raise InvalidInput(_l("schema must be a JSON Schema: an object (or true/false)"), field="schema")
    _check_size(schema, "schema")
    if isinstance(schema, dict) and schema.get("$schema", DIALECT) not in (DIALECT, DIALECT + "#"):
        raise InvalidInput(_l("schema: $schema must be %(dialect)s or left out", dialect=DIALECT), field="schema")
    try:
        Draft202012Validator.check_schema(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    except SchemaError as exc:
        where = "".join(f"/{part}" for part in exc.absolute_path) or "/"
        raise InvalidInput(_l("schema is not a valid JSON Schema (2020-12) at %(where)s: %(message)s",
                              where=where, message=_short(exc.message)),
                           field="schema") from None
    outside = _outside_refs(schema)
    if outside:
        raise InvalidInput(_l("schema: $ref must point inside the schema (#/...); %(outside)s would be fetched",
                              outside=repr(outside)),
                           field="schema")
    return schema


def check_example(schema, example):
    """Return example (a JSON object, or None) if schema accepts it; raise InvalidInput (field example) otherwise."""
    if example is None:
        return None
    if not isinstance(example, dict):
        raise InvalidInput(_l("example must be a JSON object, as payloads are"), field="example")
    _check_size(example, "example")
    error = best_match(_compile(schema).iter_errors(example))
    if error is not None:
        raise InvalidInput(_l("example does not satisfy the schema: %(error)s", error=describe(error)), field="example")
    return example


def check_payload(event_type, payload, catalog=None):
    """Refuse (InvalidInput, field payload) a payload its catalogued event type's schema refuses, naming the field
    and the rule; refuse an event type not in the catalog when EVENT_CATALOG_REQUIRED is on. Return the Catalog the
    payload was checked against (its fingerprint travels with the message to the write, app.delivery.messages);
    catalog: check against this one rather than the current one. A refusal is never from a catalog this process
    remembers: on PostgreSQL the catalog is read again first, so only what it says now refuses."""
    catalog = catalog or current_catalog()
    try:
        _check(event_type, payload, catalog)
    except InvalidInput:
        # SQLite reads the catalog for each request; on PostgreSQL once a request (a batch), for its first refusal.
        confirmed = has_request_context() and g.get("hookyard_catalog_confirmed") == catalog.fingerprint
        if catalog.fingerprint is None or confirmed:
            raise
        fresh = read_catalog()
        g.hookyard_catalog_confirmed = fresh.fingerprint
        if fresh.fingerprint == catalog.fingerprint:
            raise
        _check(event_type, payload, fresh)
        return fresh
    return catalog


def _check(event_type, payload, catalog):
    if event_type in OWN_EVENT_TYPES:
        return
    revision = catalog.revisions.get(event_type)
    if revision is None:
        if current_app.config["EVENT_CATALOG_REQUIRED"]:
            raise InvalidInput(_l("event_type %(event_type)s is not in the event catalog, and only catalogued event "
                                  "types are accepted (EVENT_CATALOG_REQUIRED)", event_type=event_type),
                               field="event_type")
        return
    fast, compiled = validator(event_type, revision)
    if fast is not None and fast(payload):
        return
    error = best_match(compiled.iter_errors(payload))  # words the refusal, and has the last word
    if error is not None:
        raise InvalidInput(describe(error), field="payload")


def describe(error):
    """A refusal as staff and producers read it: payload.<path>: <rule> ('abcd12' does not match '^[A-Z]{4}$')."""
    path = "".join(f".{part}" for part in error.absolute_path)
    return f"payload{path}: {_short(error.message)}"


@dataclass(frozen=True)
class Catalog:
    """The catalog's {event type: revision} as read at once, and on PostgreSQL its fingerprint (None on SQLite)."""

    revisions: dict
    fingerprint: str | None = None


#: PostgreSQL: the catalog as one value a write statement compares, so a message checked against a catalog changed
#: since by any process is written by no statement (app.delivery.messages): its change token, which a trigger
#: replaces in any transaction that changes an event type (app.models.catalog.CATALOG_TRIGGERS). One row, however
#: large the catalog (an md5 of every type's name and revision grew with it, as the endpoints' did).
CATALOG_FINGERPRINT = current_token_sql(CATALOG_TOKEN)
_READ_POSTGRES = text(f"""
SELECT f.fingerprint, c.name, c.revision FROM (SELECT {CATALOG_FINGERPRINT} AS fingerprint) f
LEFT JOIN event_types c ON TRUE""")
#: PostgreSQL: the catalog as this process last read it; every write compares its fingerprint.
_known = None


def current_catalog():
    """The catalog checks use: on PostgreSQL as this process last read it (read again when a write finds it changed);
    on SQLite read once per request or job (a batch checks many messages)."""
    if db.engine.dialect.name == "postgresql":  # the engine: asking the session's bind would make a session
        return _known or read_catalog()
    if "hookyard_catalog" not in g:
        g.hookyard_catalog = read_catalog()
    return g.hookyard_catalog


def known_catalog():
    """PostgreSQL: the catalog as this process last read it, or None."""
    return _known


def read_catalog():
    """Read the catalog now (on PostgreSQL with its fingerprint, remembered for the next checks)."""
    global _known
    if db.session.get_bind().dialect.name != "postgresql":
        return Catalog(dict(db.session.execute(select(EventType.name, EventType.revision)).all()))
    rows = db.session.execute(_READ_POSTGRES).all()
    _known = Catalog({row.name: row.revision for row in rows if row.name is not None}, rows[0].fingerprint)
    return _known


def forget_catalog():
    """Read the catalog again on the next check (after a change made here)."""
    global _known
    _known = None
    g.pop("hookyard_catalog", None)


def validator(name, revision):
    """(fast check or None, jsonschema validator) of this revision of an event type, from the cache or compiled now
    (app.delivery.schema_fast: the fast check says yes for most payloads in a few microseconds)."""
    key = (name, revision)
    found = _validators.get(key)
    if found is not None:
        return found
    row = db.session.execute(select(EventType.schema, EventType.revision).where(EventType.name == name)).one_or_none()
    if row is None:  # deleted since the catalog was read: nothing to hold the payload to
        return None, _compile(True)
    compiled = compile_fast(row.schema), _compile(row.schema)
    _validators[(name, row.revision)] = compiled
    while len(_validators) > MAX_CACHED_VALIDATORS:
        _validators.popitem(last=False)
    return compiled


def _compile(schema):
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _check_size(document, field):
    if json_depth(document) > MAX_JSON_DEPTH:
        raise InvalidInput(_l("%(field)s nests deeper than %(max_json_depth)s levels",
                              field=field, max_json_depth=MAX_JSON_DEPTH), field=field)
    try:
        size = len(json.dumps(document, ensure_ascii=False, allow_nan=False).encode())
    except (ValueError, UnicodeEncodeError):
        raise InvalidInput(_l("%(field)s must be plain JSON (no NaN, Infinity or lone surrogates)", field=field),
                           field=field) from None
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidInput(_l("%(field)s is larger than %(max_document_bytes)s KB",
                              field=field, max_document_bytes=MAX_DOCUMENT_BYTES // 1024), field=field)


def _outside_refs(node):
    """The first $ref or $dynamicRef that does not point inside the schema, or None."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str) and not value.startswith("#"):
                return value
            found = _outside_refs(value)
            if found:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _outside_refs(value)
            if found:
                return found
    return None


def _short(text):
    return text if len(text) <= MAX_ERROR_LENGTH else text[:MAX_ERROR_LENGTH - 1] + "…"
