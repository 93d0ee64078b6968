"""Read-only staff views: messages with their deliveries, the audit log."""

import json

from flask import abort, request
from flask_admin import expose
from flask_admin.contrib.sqla.filters import DateTimeBetweenFilter
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from app.admin import formatters as fmt
from app.admin.base import StaffModelView
from app.extensions import db
from app.models import AuditEntry, Delivery, Message, Role


class MessageView(StaffModelView):
    column_list = ("created_at", "event_type", "reference", "tags", "id", "deliveries")
    column_default_sort = [("created_at", True), ("id", True)]
    column_sortable_list = ()
    column_filters = ("event_type", "reference", DateTimeBetweenFilter(Message.created_at, "Created (UTC)"))
    column_formatters = {
        "created_at": fmt.field("created_at", fmt.time_cell),
        "tags": lambda v, c, m, n: fmt.tag_list(m.tags),
        "deliveries": lambda v, c, m, n: Markup(" ").join(fmt.status_badge(d.status) for d in m.deliveries),
    }
    can_view_details = True
    details_template = "admin/message_details.html"

    def get_query(self):
        return super().get_query().options(
            selectinload(Message.tag_rows), selectinload(Message.deliveries).load_only(Delivery.status))

    def get_count_query(self):
        return None

    @expose("/details/")
    def details_view(self):
        message = db.session.get(Message, request.args.get("id", ""))
        if message is None:
            abort(404, description="No such message.")
        payload = json.dumps(json.loads(message.payload), indent=2, ensure_ascii=False)
        return self.render(self.details_template, message=message, payload=payload)


class AuditView(StaffModelView):
    """The audit log, newest first; admins only."""

    required_role = Role.ADMIN
    column_list = ("at", "actor", "action", "summary", "target_type", "target_ids", "ip")
    column_default_sort = [("at", True), ("id", True)]
    column_sortable_list = ()
    column_filters = ("actor", "action", "target_type", DateTimeBetweenFilter(AuditEntry.at, "At (UTC)"))
    column_formatters = {
        "at": fmt.field("at", fmt.time_cell),
        "target_ids": lambda v, c, m, n: ", ".join(str(i) for i in (m.target_ids or [])[:5])
        + (f" … ({len(m.target_ids)})" if m.target_ids and len(m.target_ids) > 5 else ""),
    }
    can_view_details = True
    column_details_list = ("at", "actor", "ip", "action", "summary", "target_type", "target_ids", "before", "after")
