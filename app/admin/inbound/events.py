"""The Inbound page: every webhook the sources accepted, newest first, with status tabs, filters, search, live
rows, and Replay / Mark processed per row and in bulk.

It works as the sync monitor does: the page renders once, then its rows, tab counts and pager refresh in place
from /admin/inbound/rows (htmx); a row action answers with the row itself when htmx asks, and that row polls until
the processing it asked for has landed.
"""

import math
from datetime import timedelta

from flask import flash, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.admin.inbound.event_page import InboundEventPageMixin
from app.admin.inbound.refused import RefusedRequestsMixin
from app.admin.shared.base import StaffView
from app.admin.shared.listing import StaffListMixin
from app.admin.shared.posting import staff_post
from app.admin.shared.staff_actions import replay_events_as_staff, settle_events_as_staff
from app.audit import Action
from app.auth.access import staff_actor
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.inbound import actions, queries
from app.models import InboundEvent, InboundSource, InboundStatus, Role, utcnow
from app.staff.retry_cap import retry_allowance
from app.staff.settings import get_setting
from app.work.results import reason_text

#: The quick status tabs, in order: (key, query-string arguments).
TABS = (("all", {}), *((s.value, {"status": s.value}) for s in (
    InboundStatus.RECEIVED, InboundStatus.PROCESSING, InboundStatus.PROCESSED, InboundStatus.FAILED,
    InboundStatus.IGNORED)))
#: The query-string arguments of the page, and the InboundFilter field each one sets (as GET /inbound-events).
ARGS = {"source": "source", "status": "status", "type": "topic", "q": "q", "received_from": "received_from",
        "received_to": "received_to"}
#: What a row reads besides the event: its source's name, provider and state.
ROW_LOADS = (joinedload(InboundEvent.source).load_only(InboundSource.name, InboundSource.provider,
                                                       InboundSource.state),)
#: Statuses a watched row keeps polling in: processing was asked for and has not landed.
IN_FLIGHT = (InboundStatus.RECEIVED, InboundStatus.PROCESSING)


def inbound_filter(args):
    """The filter the query string asks for; a bad value is reported on the page and the filter ignored."""
    try:
        return queries.InboundFilter.make(**{field: args.get(arg) for arg, field in ARGS.items()})
    except InvalidInput as exc:
        flash(_("Filter ignored: %(reason)s", reason=exc.localized.replace('topic', 'type')), "error")
        return queries.InboundFilter()


def replay_blocked(event, allowance, cooldown_seconds, now):
    """Why this person cannot replay this event now (hourly cap, then app.inbound.actions' rules), or None."""
    if allowance is not None and not allowance.unlimited and allowance.left == 0:
        return _("Hourly retry cap reached (next at %(time)s UTC); bulk actions count once",
                 time=f"{allowance.free_at:%H:%M}")
    since = now - timedelta(seconds=cooldown_seconds) if cooldown_seconds else None
    reason = actions.replay_refusal(event, event.source.state, since)
    text = str(reason_text(reason)) if reason else None
    return text[0].upper() + text[1:] if text else None


def _answer(view, event_id):
    return view.answer(event_id)


class InboundEventView(InboundEventPageMixin, RefusedRequestsMixin, StaffListMixin, StaffView):
    """The Inbound page: inbound events with tabs, filters, search, live rows and actions."""

    replay_blocked = staticmethod(replay_blocked)
    tabs = TABS
    parse_filter = staticmethod(inbound_filter)

    def row_context(self):
        """What every row needs besides the event: the person's allowance, the cooldown, the time."""
        return dict(now=utcnow(), allowance=retry_allowance(staff_actor()) if self.can_operate() else None,
                    cooldown_seconds=get_setting("retry_cooldown_seconds"))

    def listing(self):
        """Everything the rows, tabs and pager show for this request (one home for the page and the fragment)."""
        flt = self.current_filter()
        page, per_page = self.paging()
        counts = queries.status_counts(flt)
        tab = flt.status.value if flt.status else "all"
        rows, _ = queries.list_events(flt, page=page, per_page=per_page, options=ROW_LOADS)
        return dict(flt=flt, rows=rows, handles=queries.handles_of([e.id for e in rows]), counts=counts, tab=tab,
                    total=counts[tab], page=page, per_page=per_page, pages=max(math.ceil(counts[tab] / per_page), 1),
                    refresh_seconds=get_setting("refresh_seconds"), **self.row_context())

    @expose("/")
    def index(self):
        sources = db.session.execute(select(InboundSource.name, InboundSource.provider)
                                     .order_by(InboundSource.name)).all()
        return self.render("admin/inbound/events.html", **self.listing(), tabs=TABS, sources=sources,
                           topics=queries.known_topics(), args=request.args, refused=self.refused_count())

    @expose("/rows")
    def rows_fragment(self):
        """The live part of the page: rows, plus tab counts and pager swapped out of band."""
        return self.render("admin/inbound/events_fragment.html", **self.listing(), tabs=TABS)

    def _row(self, event_id, watch=False):
        try:
            event = queries.get_event(event_id)
        except NotFound as exc:
            return exc.localized, 404
        return self.render("admin/inbound/event_row_fragment.html", e=event, handles=queries.handles_of([event.id]),
                           watch=watch, polling=watch and event.status in IN_FLIGHT, **self.row_context())

    @expose("/row/<event_id>")
    def row_fragment(self, event_id):
        """One row; with watch=1 it keeps polling until the processing asked for lands, then shows its outcome."""
        return self._row(event_id, watch=request.args.get("watch") == "1")

    @expose("/replay/<event_id>", methods=("POST",))
    @staff_post(Role.OPERATOR, done=_answer)
    def replay_one(self, event_id):
        replay_events_as_staff([event_id], audit_action=Action.INBOUND_EVENT_REPLAY)

    @expose("/mark-processed/<event_id>", methods=("POST",))
    @staff_post(Role.OPERATOR, done=_answer)
    def settle_one(self, event_id):
        settle_events_as_staff([event_id], request.form.get("note", ""),
                               audit_action=Action.INBOUND_EVENT_MARK_PROCESSED)

    @expose("/action/", methods=("POST",))
    @staff_post(Role.OPERATOR, done=StaffListMixin.back_to_list)
    def bulk_action(self):
        """Replay or mark processed the selected rows (at most one page: 100)."""
        ids = list(dict.fromkeys(request.form.getlist("rowid")))[:100]
        name = request.form.get("action")
        if not ids:
            raise InvalidInput(_l("Select at least one event"))
        if name == "replay":
            replay_events_as_staff(ids)
        elif name == "mark_processed":
            settle_events_as_staff(ids, request.form.get("note", ""))
        else:
            raise InvalidInput(_l("Unknown action"))
