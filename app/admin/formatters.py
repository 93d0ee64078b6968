"""Column formatters: how a value looks in an admin list. Pure presentation, escaped by Markup."""

from markupsafe import Markup, escape

from app.delivery.attempt import storable
from app.models import utcnow

#: Bootstrap badge colour per delivery status.
STATUS_BADGES = {
    "pending": "warning", "sending": "info", "succeeded": "success", "failed": "danger", "cancelled": "secondary",
}


def relative(moment, now=None):
    """Say how far moment is from now in words: "3 min ago", "in 2 h"."""
    if moment is None:
        return ""
    seconds = ((now or utcnow()) - moment).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    for limit, size, unit in ((60, 1, "s"), (3600, 60, "min"), (86400, 3600, "h"), (float("inf"), 86400, "d")):
        if seconds < limit:
            amount = f"{int(seconds // size)} {unit}"
            break
    return f"in {amount}" if future else f"{amount} ago"


def time_cell(moment):
    """A relative time with the exact UTC time on hover."""
    if moment is None:
        return Markup('<span class="text-muted">—</span>')
    exact = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(moment.isoformat(), exact, relative(moment))


def status_badge(status, error=None, lease_expires_at=None):
    """A coloured status badge; the last error, if any, in its tooltip. A sending delivery whose lease ran out
    says so: its worker is gone, the sweep will record the attempt, and staff may cancel it."""
    value = getattr(status, "value", status)
    label = value
    if value == "sending" and lease_expires_at is not None and lease_expires_at < utcnow():
        label = "sending: worker lost"
        error = "The worker stopped before recording this attempt; the receiver may have it."
    title = Markup(' title="{}" data-toggle="tooltip"').format(error) if error else ""
    return Markup('<span class="badge badge-status badge-{}"{} data-status="{}">{}</span>').format(
        STATUS_BADGES.get(value, "light"), title, value, label)


def tag_list(tags):
    return Markup(" ").join(Markup('<span class="badge badge-light">{}</span>').format(t) for t in tags)


def field(name, render):
    """Adapt render(value) to Flask-Admin's formatter signature, reading the attribute name."""
    return lambda view, context, model, attr: render(getattr(model, name))


def escape_text(value):
    return escape(value) if value is not None else ""


def response_body(attempt, limit_bytes=None):
    """(text, note) for showing an attempt's response body: bytes that are not plain text are shown escaped
    (\\x00, \\xff), with a note saying so; a body cut at the limit says that too."""
    notes = []
    text = attempt.response_body
    if attempt.response_body_encoding:
        raw = storable.raw(attempt.response_body, attempt.response_body_encoding)
        text = raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
        notes.append(f"{len(raw)} bytes that are not plain UTF-8 text, shown with escapes")
    if attempt.response_body_truncated:
        notes.append("only the first bytes were kept" + (f" ({limit_bytes} bytes)" if limit_bytes else ""))
    return text, "; ".join(notes)
