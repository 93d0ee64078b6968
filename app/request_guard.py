"""Refuse request input no handler could store or show, before any rate limiter, session or database work.

- A NUL byte or another control character in the path, a query argument (tabs and line breaks too) or a form
  field (tabs and line breaks allowed): 400. PostgreSQL
  cannot compare or store NUL in text, so such a value used to end as a 500 deep in a query.
- Sign-in and password forms larger than AUTH_FORM_MAX_BYTES: 413 before they are read, so an oversized
  "email" never reaches the rate limiter's keys or the audit log.
"""

from flask import abort, request

from app.text import has_control

#: The sign-in and password forms are a few hundred bytes; larger ones are refused unread.
AUTH_FORM_MAX_BYTES = 16 * 1024
#: Blueprints whose forms are bounded by AUTH_FORM_MAX_BYTES.
AUTH_BLUEPRINTS = ("auth",)
#: Blueprints whose bodies are never parsed here: an inbound webhook's raw bytes are what its signature covers,
#: and parsing a form would consume them (and read past the inbound size limit).
RAW_BODY_BLUEPRINTS = ("inbound",)


def _bad_field(pairs, *, one_line):
    for name, value in pairs:
        if has_control(name, one_line=True) or has_control(value, one_line=one_line):
            return name
    return None


def check_request():
    """Abort with 400 or 413 on input no view should see (see module docstring)."""
    if request.blueprint in AUTH_BLUEPRINTS:
        request.max_content_length = AUTH_FORM_MAX_BYTES
    if has_control(request.path, one_line=True):
        abort(400, description="The address holds a control character; nothing was done.")
    bad = _bad_field(request.args.items(multi=True), one_line=True) if request.query_string else None
    raw = request.blueprint in RAW_BODY_BLUEPRINTS
    if bad is None and not raw and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        bad = _bad_field(request.form.items(multi=True), one_line=False)  # a text area may hold line breaks
    if bad is not None:
        abort(400, description=f"{bad[:40]!r} holds a NUL byte or another control character; nothing was done.")


def init_app(app):
    """Check every request first. IMPORTANT: call before limiter.init_app, whose check must come after this."""
    app.before_request(check_request)
