"""Reference links: URL templates admins define so a reference or a handle (an order number, a QR code) becomes a link
to where staff act on it, e.g. "#{n}" -> https://admin.shopify.com/store/x/orders/{n}.

A link has an event type pattern ("order.*", "orders/*", an exact type or none: any), a value pattern (literal text
with {name} placeholders, each matching one or more characters other than white space, "/", "?" and "#", or
{name:regex}; none: any value) and a URL template using those names and {value} (the whole value). The template must
be http(s) with a fixed host: each name is filled in URL-encoded, so no value can change where the link goes. A bad
template is refused when saved. Every change is audited.
"""

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit import Action, record
from app.errors import InvalidInput
from app.extensions import db
from app.models import ReferenceLink
from app.rows import get_or_not_found
from app.text import is_clean_text

#: What {name} matches when the pattern gives no regex.
DEFAULT_PART = r"[^\s/?#]+"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EVENT_PATTERN = re.compile(r"^[^\s*]*\*?$")
_FIELDS = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class CompiledLink:
    """A reference link ready to apply: link_for(value, event type) tries each in turn."""

    name: str
    event_type_pattern: str | None
    value: re.Pattern
    url_template: str

    def url_for(self, value, event_type):
        """The link's URL for value, or None when it does not apply."""
        if not _type_matches(self.event_type_pattern, event_type):
            return None
        found = self.value.fullmatch(value)
        if found is None:
            return None
        names = {"value": value, **found.groupdict()}
        return _FIELDS.sub(lambda m: quote(names[m.group(1)] or "", safe=""), self.url_template)


def compile_value_pattern(pattern):
    """The regular expression a value pattern stands for; raise InvalidInput saying what is wrong with it."""
    if not pattern:
        return re.compile(r"(?s:.+)")
    parts, names, i = [], [], 0
    while i < len(pattern):
        if pattern[i] == "}":
            raise InvalidInput(_l("value pattern: a '}' closes no placeholder"), field="value_pattern")
        if pattern[i] != "{":
            parts.append(re.escape(pattern[i]))
            i += 1
            continue
        end = _closing(pattern, i)
        name, _, regex = pattern[i + 1:end].partition(":")
        if not _NAME.fullmatch(name) or name == "value" or name in names:
            raise InvalidInput(_l("value pattern: {%(name)s} must be a new name of letters, digits and '_' (not "
                                  "'value', which is the whole value)", name=name), field="value_pattern")
        names.append(name)
        parts.append(f"(?P<{name}>{regex or DEFAULT_PART})")
        i = end + 1
    try:
        return re.compile("".join(parts))
    except re.error as exc:
        raise InvalidInput(_l("value pattern: not a valid regular expression: %(exc)s", exc=exc),
                           field="value_pattern") from None


def _closing(pattern, start):
    """The index of the '}' closing the placeholder opened at start (braces inside its regex nest)."""
    depth, i = 0, start
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return i
        i += 1
    raise InvalidInput(_l("value pattern: a '{' is never closed"), field="value_pattern")


def check_url_template(template, names):
    """Return template if it is an http(s) URL with a fixed host using only names and {value}; else InvalidInput."""
    if not isinstance(template, str) or not template or len(template) > 2048 or not is_clean_text(template) \
            or any(c.isspace() for c in template):
        raise InvalidInput(_l("URL template must be one http:// or https:// URL without spaces"), field="url_template")
    used = _FIELDS.findall(template)
    unknown = [n for n in used if n not in (*names, "value")]
    if unknown or template.count("{") != len(used) or template.count("}") != len(used):
        raise InvalidInput(_l("URL template: use only {value} and the pattern's names (%(names)s); unknown or "
                              "unbalanced: %(unknown)s",
                              names=", ".join("{" + n + "}" for n in names) or _l("none"),
                              unknown=", ".join(unknown) or _l("a stray brace")),
                           field="url_template")
    parts = urlsplit(template)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidInput(_l("URL template must start with http:// or https:// and a host (javascript:, data: and "
                              "other schemes are refused)"), field="url_template")
    if "{" in f"{parts.scheme}://{parts.netloc}":
        raise InvalidInput(_l("URL template: the host must be fixed; put placeholders in the path or the query"),
                           field="url_template")
    return template


def add_reference_link(name, *, url_template, event_type_pattern=None, value_pattern=None, actor):
    """Save a reference link after checking it; audited. Raise InvalidInput (nothing saved) when it is bad."""
    name = (name or "").strip()
    if not name or len(name) > 200 or not is_clean_text(name):
        raise InvalidInput(_l("name must be 1 to 200 characters of text"), field="name")
    event_type_pattern = (event_type_pattern or "").strip() or None
    value_pattern = (value_pattern or "").strip() or None
    if not event_type_pattern and not value_pattern:
        raise InvalidInput(_l("give an event type pattern, a value pattern or both"), field="value_pattern")
    if event_type_pattern and (len(event_type_pattern) > 200 or not _EVENT_PATTERN.fullmatch(event_type_pattern)):
        raise InvalidInput(_l("event type pattern: an event type or topic, optionally ending in * (order.*, "
                              "orders/*)"), field="event_type_pattern")
    if value_pattern and (len(value_pattern) > 500 or not is_clean_text(value_pattern)):
        raise InvalidInput(_l("value pattern must be at most 500 characters of text"), field="value_pattern")
    compiled = compile_value_pattern(value_pattern)
    url_template = check_url_template((url_template or "").strip(), list(compiled.groupindex))
    row = ReferenceLink(name=name, event_type_pattern=event_type_pattern, value_pattern=value_pattern,
                        url_template=url_template, created_by=actor.name)
    db.session.add(row)
    db.session.flush()
    summary = _l("reference link %(name)s added", name=name)
    record(actor, Action.REFERENCE_LINK_CREATE, summary, target_type="reference_link",
           target_ids=[row.id], after=_definition(row))
    db.session.commit()
    g.pop("hookyard_reference_links", None)
    return row


def delete_reference_link(link_id, *, actor):
    """Remove a reference link; audited."""
    row = get_or_not_found(ReferenceLink, link_id, f"no reference link {link_id}")
    summary = _l("reference link %(name)s removed", name=row.name)
    record(actor, Action.REFERENCE_LINK_DELETE, summary, target_type="reference_link",
           target_ids=[row.id], before=_definition(row))
    db.session.delete(row)
    db.session.commit()
    g.pop("hookyard_reference_links", None)


def list_reference_links():
    """Every reference link, oldest first (the first that applies to a value wins)."""
    return db.session.scalars(select(ReferenceLink).order_by(ReferenceLink.created_at, ReferenceLink.id)).all()


def link_for(value, event_type=None):
    """(link name, URL) of the first reference link that applies to value (of event_type), or None."""
    if not value:
        return None
    for link in _compiled():
        url = link.url_for(value, event_type)
        if url is not None:
            return link.name, url
    return None


def _compiled():
    """The reference links compiled, once per request (a page renders many values)."""
    if "hookyard_reference_links" not in g:
        g.hookyard_reference_links = [
            CompiledLink(row.name, row.event_type_pattern, compile_value_pattern(row.value_pattern), row.url_template)
            for row in list_reference_links()]
    return g.hookyard_reference_links


def _type_matches(pattern, event_type):
    if not pattern or pattern == "*":
        return True
    if event_type is None:
        return False
    return event_type.startswith(pattern[:-1]) if pattern.endswith("*") else event_type == pattern


def _definition(row):
    return {"name": row.name, "event_type_pattern": row.event_type_pattern, "value_pattern": row.value_pattern,
            "url_template": row.url_template}
