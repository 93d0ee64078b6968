"""The sync monitor: every outbound webhook, newest first, with status tabs, filters, search and actions."""

import json

from flask import Response, abort, flash, g, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.template import TemplateLinkRowAction
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.admin import formatters as fmt
from app.admin.base import StaffModelView
from app.admin.staff_actions import cancel_as_staff, retry_as_staff
from app.auth.access import has_role, local_url, require_role
from app.delivery.queries import DeliveryFilter, status_counts
from app.errors import InvalidInput
from app.extensions import db
from app.models import AttemptTrigger, Delivery, DeliveryAttempt, DeliveryStatus, Endpoint, ErrorClass, Message, Role
from app.staff.settings import get_setting

#: The quick status tabs, in order ("" is All).
TABS = ("", "failed", "pending", "succeeded", "cancelled")


def _endpoint_label(endpoint):
    return endpoint.name or endpoint.url


class DeliveryView(StaffModelView):
    list_template = "admin/monitor.html"
    column_list = ("reference", "tags", "event_type", "endpoint", "status", "last_attempt_at", "attempt_count",
                   "next_attempt_at")
    column_labels = {"event_type": "Event", "last_attempt_at": "Last attempt", "attempt_count": "Attempts",
                     "next_attempt_at": "Next attempt"}
    column_sortable_list = ()  # newest first; sorting a million rows by another column is a table scan
    column_default_sort = [("created_at", True), ("id", True)]
    column_formatters = {
        "reference": lambda v, c, m, n: fmt.escape_text(m.message.reference),
        "tags": lambda v, c, m, n: fmt.tag_list(m.message.tags),
        "endpoint": lambda v, c, m, n: _endpoint_label(m.endpoint),
        "status": lambda v, c, m, n: fmt.status_badge(m.status, m.last_error, m.lease_expires_at),
        "last_attempt_at": fmt.field("last_attempt_at", fmt.time_cell),
        "next_attempt_at": fmt.field("next_attempt_at", fmt.time_cell),
    }
    column_extra_row_actions = [
        TemplateLinkRowAction("monitor_rows.retry", "Retry now"),
        TemplateLinkRowAction("monitor_rows.cancel", "Cancel"),
        TemplateLinkRowAction("monitor_rows.log", "View log"),
    ]

    def current_filter(self):
        """The filter in the query string (parsed once a request); a bad value is reported and ignored."""
        if "monitor_filter" not in g:
            try:
                g.monitor_filter = DeliveryFilter.from_args(request.args)
            except InvalidInput as exc:
                flash(f"Filter ignored: {exc.message}", "error")
                g.monitor_filter = DeliveryFilter()
        return g.monitor_filter

    def get_query(self):
        return (super().get_query().filter(*self.current_filter().conditions()).options(
            joinedload(Delivery.message).load_only(Message.reference, Message.idempotency_key)
            .selectinload(Message.tag_rows),
            joinedload(Delivery.endpoint).load_only(Endpoint.name, Endpoint.url),
        ))

    def get_count_query(self):
        return None

    def can_operate(self):
        return has_role(Role.OPERATOR)

    def is_action_allowed(self, name):
        return self.can_operate() and super().is_action_allowed(name)

    @expose("/")
    def index_view(self):
        flt = self.current_filter()
        counts = status_counts(flt)
        endpoints = db.session.execute(select(Endpoint.id, Endpoint.name, Endpoint.url).order_by(Endpoint.name))
        self._template_args.update(
            flt=flt, filter_args=flt.to_args(), counts=counts, total=sum(counts.values()), tabs=TABS,
            endpoints=endpoints.all(),
            error_classes=[e.value for e in ErrorClass], refresh_seconds=get_setting("refresh_seconds"),
        )
        return super().index_view()

    @expose("/action/", methods=("POST",))
    def action_view(self):
        require_role(Role.OPERATOR)  # Flask-Admin would otherwise ignore a disallowed action silently
        return self.handle_action()

    @action("retry", "Retry selected", "Retry the selected deliveries now?")
    def action_retry(self, ids):
        retry_as_staff(ids, trigger=AttemptTrigger.BULK)

    @action("cancel", "Cancel selected", "Cancel the selected pending deliveries?")
    def action_cancel(self, ids):
        cancel_as_staff(ids)

    def _back(self):
        return redirect(local_url(request.form.get("url") or request.args.get("url"), self.get_url(".index_view")))

    @expose("/retry/<delivery_id>", methods=("POST",))
    def retry_one(self, delivery_id):
        retry_as_staff([delivery_id], audit_action="delivery.retry")
        return self._back()

    @expose("/cancel/<delivery_id>", methods=("POST",))
    def cancel_one(self, delivery_id):
        cancel_as_staff([delivery_id], audit_action="delivery.cancel")
        return self._back()

    def _delivery(self, delivery_id):
        delivery = db.session.get(Delivery, delivery_id)
        if delivery is None:
            abort(404, description=f"No delivery with id {delivery_id}.")
        return delivery

    @expose("/log/<delivery_id>")
    def log_view(self, delivery_id):
        delivery = self._delivery(delivery_id)
        attempts = db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
                                      .order_by(DeliveryAttempt.number.desc())).all()
        payload = json.dumps(json.loads(delivery.message.payload), indent=2, ensure_ascii=False)
        return self.render("admin/delivery_log.html", delivery=delivery, attempts=attempts, payload=payload,
                           can_operate=self.can_operate(), return_url=local_url(request.args.get("url"),
                                                                                 self.get_url(".index_view")))

    @expose("/log/<delivery_id>/payload.json")
    def payload_download(self, delivery_id):
        message = self._delivery(delivery_id).message
        return Response(message.payload, mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{message.id}.json"'})

    def tab_url(self, status):
        """The list URL for a status tab, keeping the other filters."""
        args = {k: v for k, v in request.args.items() if k not in ("status", "page")}
        return self.get_url(".index_view", **args, **({"status": status} if status else {}))

    @staticmethod
    def retryable(delivery):
        return delivery.status in (DeliveryStatus.FAILED, DeliveryStatus.PENDING)
