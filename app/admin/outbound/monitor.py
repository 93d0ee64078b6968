"""The sync monitor: every outbound webhook, newest first, with status tabs, filters, search and actions.

The page renders once; its rows, tab counts and pager refresh in place from /admin/rows (htmx), so a
half-typed search, the scroll position and selected rows survive. Row actions answer with the row
itself when htmx asks (HX-Request), so a retry's outcome appears in place.
"""

import math
from urllib.parse import parse_qsl, urlsplit

from flask import flash, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from app.admin.outbound.delivery_log import DeliveryLogMixin
from app.admin.outbound.delivery_rows import DeliveryRowActionsMixin
from app.admin.shared import staff_actions
from app.admin.shared.base import StaffModelView
from app.admin.shared.listing import StaffListMixin
from app.admin.shared.posting import needs_role
from app.auth.access import staff_actor
from app.delivery.attempt.ordering import waiting_for
from app.delivery.failure_reasons import last_reasons
from app.delivery.queries import DeliveryFilter, event_type_choices, list_deliveries, tab_counts
from app.errors import InvalidInput
from app.extensions import db
from app.models import AttemptTrigger, Delivery, DeliveryStatus, Endpoint, ErrorClass, Message, Role, utcnow
from app.staff.retry_cap import retry_allowance
from app.staff.settings import get_setting

#: The quick status tabs, in order: (key, query-string arguments).
TABS = (("all", {}), ("failed", {"status": "failed"}), ("pending", {"status": "pending"}),
        ("scheduled", {"status": "pending", "scheduled": "1"}), ("succeeded", {"status": "succeeded"}),
        ("cancelled", {"status": "cancelled"}),
        ("resolved", {"status": "failed", "resolved": "1"}))
#: What a monitor row reads besides the delivery: a few message and endpoint columns, the tags.
ROW_LOADS = (
    joinedload(Delivery.message).load_only(Message.reference, Message.idempotency_key).selectinload(Message.tag_rows),
    joinedload(Delivery.endpoint).load_only(Endpoint.name, Endpoint.url, Endpoint.state),
)


def monitor_filter(args, report=True):
    """The filter the monitor shows for a query string: test sends hidden and resolved failures left out of the
    Failed tab unless asked for. A bad value is reported on the page (unless report is false) and the filter
    ignored."""
    try:
        flt = DeliveryFilter.from_args(args)
    except InvalidInput as exc:
        if report:
            flash(_("Filter ignored: %(reason)s", reason=exc.localized), "error")
        return DeliveryFilter(hide_tests=True)
    if "hide_tests" not in args:
        flt = flt.replace(hide_tests=True)
    if flt.status is DeliveryStatus.FAILED and flt.resolved is None:
        flt = flt.replace(resolved=False)
    return flt


class DeliveryView(DeliveryLogMixin, DeliveryRowActionsMixin, StaffListMixin, StaffModelView):
    """The sync monitor (the admin home): deliveries with tabs, filters, search, live rows and actions."""

    list_template = "admin/outbound/monitor.html"
    column_default_sort = [("created_at", True), ("id", True)]
    list_endpoint = ".index_view"
    tabs = TABS
    tab_arguments = ("status", "resolved", "scheduled")
    parse_filter = staticmethod(monitor_filter)

    def is_action_allowed(self, name):
        return self.can_operate() and super().is_action_allowed(name)

    def current_tab(self, flt):
        """Which tab the filter is: "resolved", "scheduled", a status or "all"."""
        if flt.status is DeliveryStatus.FAILED and flt.resolved:
            return "resolved"
        if flt.status is DeliveryStatus.PENDING and flt.scheduled:
            return "scheduled"
        return flt.status.value if flt.status else "all"

    def listing(self):
        """Everything the rows, tabs and pager show for this request (one home for the page and the fragment)."""
        flt = self.current_filter()
        page, per_page = self.paging()
        counts = tab_counts(flt)
        total = counts[self.current_tab(flt)]
        rows, _ = list_deliveries(flt, page=page, per_page=per_page, options=ROW_LOADS)
        allowance = retry_allowance(staff_actor()) if self.can_operate() else None
        return dict(flt=flt, rows=rows, ahead=waiting_for(rows), counts=counts, total=total, page=page,
                    reasons=last_reasons([d.id for d in rows if d.last_error]),
                    per_page=per_page,
                    pages=max(math.ceil(total / per_page), 1), tab=self.current_tab(flt), now=utcnow(),
                    allowance=allowance, cooldown_seconds=get_setting("retry_cooldown_seconds"),
                    refresh_seconds=get_setting("refresh_seconds"))

    def page_counts(self):
        """The tab counts of the monitor page a row fragment was asked from (htmx names it in HX-Current-URL), so
        the tabs follow what a row action changed; None when the request did not come from the monitor."""
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if not request.headers.get("HX-Request") or current.path != url_for(".index_view"):
            return None
        return tab_counts(monitor_filter(MultiDict(parse_qsl(current.query)), report=False))

    @expose("/")
    def index_view(self):
        context = self.listing()
        actions, confirmations = self.get_actions_list()
        endpoints = db.session.execute(select(Endpoint.id, Endpoint.name, Endpoint.url)
                                       .where(Endpoint.deleted_at.is_(None)).order_by(Endpoint.name)).all()
        return self.render(self.list_template, **context, filter_args=context["flt"].to_args(), tabs=TABS,
                           endpoints=endpoints, event_types=event_type_choices(),
                           error_classes=[e.value for e in ErrorClass], actions=actions,
                           actions_confirmation=confirmations)

    @expose("/rows")
    def rows_fragment(self):
        """The live part of the monitor: rows, plus tab counts and pager swapped out of band."""
        return self.render("admin/outbound/monitor_fragment.html", **self.listing(), tabs=TABS)

    @expose("/action/", methods=("POST",))
    @needs_role(Role.OPERATOR)  # Flask-Admin would otherwise ignore a disallowed action silently
    def action_view(self):
        return self.handle_action()

    @action("retry", _l("Retry selected"), _l("Retry the selected deliveries now?"))
    def action_retry(self, ids):
        staff_actions.retry_as_staff(ids, trigger=AttemptTrigger.BULK)

    @action("replay", _l("Replay selected"), _l("Send the selected deliveries again, whatever their status?"))
    def action_replay(self, ids):
        staff_actions.replay_as_staff(ids)

    @action("cancel", _l("Cancel selected"), _l("Cancel the selected pending deliveries? They will not be sent."))
    def action_cancel(self, ids):
        staff_actions.cancel_as_staff(ids)

    @action("send_now", _l("Send selected now"),
            _l("Send the selected scheduled deliveries now instead of at their time?"))
    def action_send_now(self, ids):
        staff_actions.send_now_as_staff(ids)

    @action("resolve", _l("Resolve selected"), _l("Mark the selected failed deliveries resolved with this note?"))
    def action_resolve(self, ids):
        staff_actions.resolve_as_staff(ids, request.form.get("note", ""))
