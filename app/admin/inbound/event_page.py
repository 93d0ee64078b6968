"""One inbound event for staff: the raw body (pretty when JSON, a 4 KB preview, the exact bytes to download),
its masked headers, every processing attempt with its error, duplicates, forwarding and how it was settled."""

import json

from flask import Response, abort, request
from flask_admin import expose
from flask_babel import gettext as _
from sqlalchemy import select

from app.admin.shared.base import found
from app.auth.access import local_url
from app.extensions import db
from app.inbound import queries
from app.models import InboundAttempt
from app.text import MAX_JSON_DEPTH, json_depth

#: How much of a body the page shows; the download has all of it.
PREVIEW_BYTES = 4096


def body_preview(body, limit=PREVIEW_BYTES):
    """(text, is_json, truncated) for showing a raw body: indented when it is JSON, bytes that are not UTF-8
    shown with escapes, and cut after limit bytes of the shown text."""
    try:
        parsed = json.loads(body)
        if json_depth(parsed) > MAX_JSON_DEPTH:  # stored before bodies this deep were refused: shown as received
            raise ValueError("too deep to indent")
        text, is_json = json.dumps(parsed, indent=2, ensure_ascii=False), True
    except (ValueError, RecursionError):  # not JSON, not UTF-8 (a ValueError too), or nested past any reading
        text, is_json = body.decode("utf-8", "backslashreplace"), False
    text = text.replace("\x00", "\\x00")
    encoded = text.encode("utf-8", "surrogatepass")
    # A JSON body may escape a lone surrogate ("\ud800"), which no page can carry: shown replaced.
    return encoded[:limit].decode("utf-8", "replace"), is_json, len(encoded) > limit


class InboundEventPageMixin:
    """The event page of the InboundEventView (a mixin so the list module stays one concern)."""

    def _event(self, event_id):
        return found(queries.get_event, event_id)

    @expose("/event/<event_id>")
    def event_view(self, event_id):
        event = self._event(event_id)
        attempts = db.session.scalars(select(InboundAttempt).where(InboundAttempt.event_id == event.id)
                                      .order_by(InboundAttempt.number.desc())).all()
        text, is_json, truncated = body_preview(event.body) if event.body is not None else (None, False, False)
        # Stored masked; masked again on display, should a header have been stored before its name was known.
        return self.render("admin/inbound/event.html", e=event, attempts=attempts, headers=queries.shown_headers(event),
                           handles=queries.handles_of([event.id]), body_text=text, is_json=is_json,
                           truncated=truncated, preview_bytes=PREVIEW_BYTES, can_operate=self.can_operate(),
                           return_url=local_url(request.args.get("url"), self.get_url(".index")),
                           **self.row_context())

    @expose("/event/<event_id>/body")
    def body_download(self, event_id):
        """The exact bytes the provider sent (and signed), as a file."""
        event = self._event(event_id)
        if event.body is None:
            abort(404, description=_("This event's body was purged by retention."))
        extension = "json" if "json" in (event.content_type or "") else "bin"
        return Response(event.body, mimetype="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{event.id}.{extension}"',
                                 "X-Content-Type-Options": "nosniff"})
