"""How values look on staff pages: times in the viewer's time zone, durations, badges, pages. Pure presentation,
escaped by Markup; templates reach these as globals (see app.admin.init_admin), so other pages can use them."""

from datetime import UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from app.delivery.attempt import storable
from app.models import utcnow
from app.staff.reference_links import link_for
from app.status_words import STATUS_LABELS

#: Bootstrap badge colour per delivery status and per inbound event status.
STATUS_BADGES = {
    "pending": "warning", "sending": "info", "succeeded": "success", "failed": "danger", "cancelled": "secondary",
    "received": "warning", "processing": "info", "processed": "success", "ignored": "secondary",
}
#: Units for durations in words, largest first (translated where shown).
_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))


def _unit(count, unit):
    """Say count units, abbreviated, in the page's language ("5 min", "5 phút")."""
    words = {"d": _("%(n)s d", n=count), "h": _("%(n)s h", n=count), "min": _("%(n)s min", n=count),
             "s": _("%(n)s s", n=count)}
    return words[unit]


def viewer_zone():
    """The signed-in person's time zone (UTC when unset, unknown or signed out)."""
    name = getattr(current_user, "time_zone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def duration(seconds):
    """Say a number of seconds the way people do: 86400 -> "24 h", 300 -> "5 min", 90 -> "1 min 30 s"."""
    seconds = int(round(float(seconds)))
    if seconds == 0:
        return _unit(0, "s")
    if seconds % 3600 == 0 and seconds <= 7 * 86400:
        return _unit(seconds // 3600, "h")
    parts = []
    for size, unit in _UNITS:
        if seconds >= size and len(parts) < 2:
            parts.append(_unit(seconds // size, unit))
            seconds %= size
    return " ".join(parts)


def relative(moment, now=None, direction=True):
    """Say how far moment is from now in the page's language: "3 minutes ago", "3 phút trước", "in 2 hours";
    without direction, only how long ("3 minutes", for an age)."""
    if moment is None:
        return ""
    return format_timedelta(moment - (now or utcnow()), add_direction=direction)


def absolute(moment):
    """The exact time in the viewer's time zone, e.g. "2026-11-30 15:04:05 CET"."""
    return moment.astimezone(viewer_zone()).strftime("%Y-%m-%d %H:%M:%S %Z")


def time_cell(moment, exact=False, age=False):
    """A relative time with the exact time (viewer's zone) on hover, or shown beside it when exact; an age (how long
    ago, without "ago") when age."""
    if moment is None:
        return Markup('<span class="hy-muted">—</span>')
    if age:
        return Markup('<time datetime="{}" title="{}">{}</time>').format(moment.isoformat(), absolute(moment),
                                                                        relative(moment, direction=False))
    if exact:
        return Markup('<time datetime="{}">{} <span class="hy-muted">({})</span></time>').format(
            moment.isoformat(), relative(moment), absolute(moment))
    return Markup('<time datetime="{}" title="{}">{}</time>').format(moment.isoformat(), absolute(moment),
                                                                    relative(moment))


def status_label(status):
    """A status's name in the page's language ("failed", "thất bại")."""
    value = getattr(status, "value", status)
    return str(STATUS_LABELS.get(value, value))


def status_badge(status, error=None, lease_expires_at=None):
    """A coloured status badge; the last error, if any, in its tooltip. A sending delivery whose lease ran out
    says so: its worker is gone, the sweep will record the attempt, and staff may cancel it."""
    value = getattr(status, "value", status)
    label = status_label(value)
    if value == "sending" and lease_expires_at is not None and lease_expires_at < utcnow():
        label = _("sending: worker lost")
        error = _("The worker stopped before recording this attempt; the receiver may have it.")
    title = Markup(' title="{}" data-toggle="tooltip"').format(error) if error else ""
    return Markup('<span class="badge badge-status badge-{}"{} data-status="{}">{}</span>').format(
        STATUS_BADGES.get(value, "light"), title, value, label)


def tag_list(tags):
    """Tags as small badges."""
    return Markup(" ").join(Markup('<span class="badge badge-light">{}</span>').format(t) for t in tags)


def field(name, render):
    """Adapt render(value) to Flask-Admin's formatter signature, reading the attribute name."""
    return lambda view, context, model, attr: render(getattr(model, name))


def escape_text(value):
    """Escape a value for a page; nothing for None."""
    return escape(value) if value is not None else ""


def page_numbers(page, pages, around=2):
    """The page links to show: first, last and a window around page, None for a gap ([1, None, 4, 5, 6, None, 9])."""
    wanted = {1, pages, *range(max(page - around, 1), min(page + around, pages) + 1)}
    shown, previous = [], 0
    for number in sorted(n for n in wanted if n >= 1):
        if number > previous + 1:
            shown.append(None)
        shown.append(number)
        previous = number
    return shown


def response_body(attempt, limit_bytes=None):
    """(text, note) for showing an attempt's response body: bytes that are not plain text are shown escaped
    (\\x00, \\xff), with a note saying so; a body cut at the limit says that too."""
    notes = []
    text = attempt.response_body
    if attempt.response_body_encoding:
        raw = storable.raw(attempt.response_body, attempt.response_body_encoding)
        text = raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
        notes.append(_("%(count)s bytes that are not plain UTF-8 text, shown with escapes", count=len(raw)))
    if attempt.response_body_truncated:
        notes.append(_("only the first bytes were kept (%(count)s bytes)", count=limit_bytes) if limit_bytes
                     else _("only the first bytes were kept"))
    return text, "; ".join(notes)


def reference_link(value, event_type=None):
    """A link to where staff act on a reference or handle (app.staff.reference_links), or nothing when no reference
    link applies: http(s) only, escaped, opened without giving the other site this page (rel=noopener)."""
    found = link_for(value, event_type)
    if found is None:
        return ""
    name, url = found
    return Markup(' <a href="{}" class="hy-ref-link small" target="_blank" rel="noopener noreferrer" '
                  'data-reference-link title="Open in {}">{} ↗</a>').format(url, name, name)
