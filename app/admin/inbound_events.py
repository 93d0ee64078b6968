"""The Inbound page: every webhook the sources accepted, newest first, with status tabs, filters, search, live
rows, and Replay / Mark processed per row and in bulk.

It works as the sync monitor does: the page renders once, then its rows, tab counts and pager refresh in place
from /admin/inbound/rows (htmx); a row action answers with the row itself when htmx asks, and that row polls until
the processing it asked for has landed.
"""

import math
from datetime import timedelta

from flask import flash, g, redirect, request
from flask_admin import BaseView, expose
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.admin.base import StaffMixin
from app.admin.common import whole_number
from app.admin.inbound_event_page import InboundEventPageMixin
from app.admin.staff_actions import within_retry_cap
from app.audit import Action
from app.auth.access import has_role, local_url, require_role, staff_actor
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.inbound import actions, queries
from app.models import InboundEvent, InboundSource, InboundStatus, Role, utcnow
from app.staff.limits import retry_allowance
from app.staff.settings import get_setting

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
#: Arguments the filter form owns; the tabs and pager keep the others.
_PAGING = ("page", "page_size")
#: Statuses a watched row keeps polling in: processing was asked for and has not landed.
IN_FLIGHT = (InboundStatus.RECEIVED, InboundStatus.PROCESSING)


def inbound_filter(args):
    """The filter the query string asks for; a bad value is reported on the page and the filter ignored."""
    try:
        return queries.InboundFilter.make(**{field: args.get(arg) for arg, field in ARGS.items()})
    except InvalidInput as exc:
        flash(f"Filter ignored: {exc.message.replace('topic', 'type')}", "error")
        return queries.InboundFilter()


def replay_blocked(event, allowance, cooldown_seconds, now):
    """Why this person cannot replay this event now (hourly cap, then app.inbound.actions' rules), or None."""
    if allowance is not None and not allowance.unlimited and allowance.left == 0:
        return f"Hourly retry cap reached (next at {allowance.free_at:%H:%M} UTC); bulk actions count once"
    since = now - timedelta(seconds=cooldown_seconds) if cooldown_seconds else None
    reason = actions.replay_refusal(event, event.source.state, since)
    return reason[0].upper() + reason[1:] if reason else None


def _report(outcome, verb):
    category = "success" if outcome.changed and not outcome.skipped else "warning"
    flash(outcome.summary(verb).capitalize() + ".", category if outcome.changed else "error")


def replay_as_staff(ids, *, audit_action=Action.INBOUND_EVENTS_REPLAY):
    """Replay events for the signed-in operator (hourly cap and cooldown apply); None when the cap refused it."""
    require_role(Role.OPERATOR)
    actor = staff_actor()
    if not within_retry_cap(actor):
        return None
    outcome = actions.replay_events(ids, actor, check_cap=False, audit_action=audit_action)
    _report(outcome, "replayed")
    return outcome


def settle_as_staff(ids, note, *, audit_action=Action.INBOUND_EVENTS_MARK_PROCESSED):
    """Mark events processed with a note for the signed-in operator; None when the note is missing."""
    require_role(Role.OPERATOR)
    try:
        outcome = actions.mark_processed(ids, note, staff_actor(), audit_action=audit_action)
    except InvalidInput as exc:
        flash(exc.message.capitalize() + "; nothing was changed.", "error")
        return None
    _report(outcome, "marked processed")
    return outcome


class InboundEventView(InboundEventPageMixin, StaffMixin, BaseView):
    """The Inbound page: inbound events with tabs, filters, search, live rows and actions."""

    page_size = 20
    replay_blocked = staticmethod(replay_blocked)
    page_size_options = (20, 50, 100)

    def current_filter(self):
        if "inbound_filter" not in g:
            g.inbound_filter = inbound_filter(request.args)
        return g.inbound_filter

    def can_operate(self):
        return has_role(Role.OPERATOR)

    def row_context(self):
        """What every row needs besides the event: the person's allowance, the cooldown, the time."""
        return dict(now=utcnow(), allowance=retry_allowance(staff_actor()) if self.can_operate() else None,
                    cooldown_seconds=get_setting("retry_cooldown_seconds"))

    def listing(self):
        """Everything the rows, tabs and pager show for this request (one home for the page and the fragment)."""
        flt = self.current_filter()
        per_page = whole_number("page_size", self.page_size, self.page_size_options)
        page = whole_number("page", 1)
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
        return self.render("admin/inbound.html", **self.listing(), tabs=TABS, sources=sources,
                           topics=queries.known_topics(), args=request.args)

    @expose("/rows")
    def rows_fragment(self):
        """The live part of the page: rows, plus tab counts and pager swapped out of band."""
        return self.render("admin/inbound_fragment.html", **self.listing(), tabs=TABS)

    def url_with(self, **changes):
        """This page's URL with some query arguments changed (None drops one); paging restarts unless given."""
        args = {k: v for k, v in request.args.items() if k not in _PAGING or k in changes}
        args.update(changes)
        return self.get_url(".index", **{k: v for k, v in args.items() if v not in (None, "")})

    def page_url(self, number):
        return self.url_with(page=number)

    def tab_url(self, tab):
        return self.url_with(status=dict(TABS)[tab].get("status"), page=None)

    def _row(self, event_id, watch=False):
        try:
            event = queries.get_event(event_id)
        except NotFound as exc:
            return exc.message, 404
        return self.render("admin/inbound_row_fragment.html", e=event, handles=queries.handles_of([event.id]),
                           watch=watch, polling=watch and event.status in IN_FLIGHT, **self.row_context())

    def _answer(self, event_id):
        if request.headers.get("HX-Request"):
            return self._row(event_id, watch=True)
        return redirect(local_url(request.form.get("url"), self.get_url(".index")))

    @expose("/row/<event_id>")
    def row_fragment(self, event_id):
        """One row; with watch=1 it keeps polling until the processing asked for lands, then shows its outcome."""
        return self._row(event_id, watch=request.args.get("watch") == "1")

    @expose("/replay/<event_id>", methods=("POST",))
    def replay_one(self, event_id):
        replay_as_staff([event_id], audit_action=Action.INBOUND_EVENT_REPLAY)
        return self._answer(event_id)

    @expose("/mark-processed/<event_id>", methods=("POST",))
    def settle_one(self, event_id):
        settle_as_staff([event_id], request.form.get("note", ""), audit_action=Action.INBOUND_EVENT_MARK_PROCESSED)
        return self._answer(event_id)

    @expose("/action/", methods=("POST",))
    def bulk_action(self):
        """Replay or mark processed the selected rows (at most one page: 100)."""
        require_role(Role.OPERATOR)
        ids = list(dict.fromkeys(request.form.getlist("rowid")))[:100]
        name = request.form.get("action")
        if not ids:
            flash("Select at least one event; nothing was changed.", "error")
        elif name == "replay":
            replay_as_staff(ids)
        elif name == "mark_processed":
            settle_as_staff(ids, request.form.get("note", ""))
        else:
            flash("Unknown action; nothing was changed.", "error")
        return redirect(local_url(request.form.get("url"), self.get_url(".index")))
