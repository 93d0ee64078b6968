"""Read-only staff views: messages with their deliveries, the audit log."""

from flask import abort, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import DateTimeBetweenFilter
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from app.admin import formatters as fmt
from app.admin.base import StaffModelView
from app.admin.delivery_log import pretty
from app.extensions import db
from app.models import AuditEntry, Delivery, Message, Role

#: Where an audit entry's target ids lead, by target type: (endpoint, its id argument).
TARGET_PAGES = {
    "delivery": ("monitor.log_view", "delivery_id"), "message": ("messages.details_view", "id"),
    "endpoint": ("endpoints.manage", "endpoint_id"), "job": ("jobs.job_view", "job_id"),
    "user": ("users.edit_view", "id"),
}


def target_link(target_type, target_id):
    """A link to an audit target's page, or its id as text when it has no page."""
    page = TARGET_PAGES.get(target_type)
    if page is None:
        return Markup("<code>{}</code>").format(target_id)
    return Markup('<a href="{}"><code>{}</code></a>').format(url_for(page[0], **{page[1]: target_id}), target_id)


def _targets(view, context, entry, name):
    ids = entry.target_ids or []
    links = Markup(", ").join(target_link(entry.target_type, i) for i in ids[:5])
    return links + (Markup(" … ({} in all)").format(len(ids)) if len(ids) > 5 else "")


def _message_link(view, context, message, name):
    return Markup('<a href="{}"><code>{}</code></a>').format(view.get_url(".details_view", id=message.id), message.id)


def _reference_link(view, context, message, name):
    if not message.reference:
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for("monitor.index_view", q=message.reference), message.reference)


class MessageView(StaffModelView):
    """Messages, newest first; each opens with its payload and every delivery."""

    column_list = ("created_at", "event_type", "reference", "tags", "id", "deliveries")
    column_default_sort = [("created_at", True), ("id", True)]
    column_sortable_list = ()
    column_filters = ("event_type", "reference", DateTimeBetweenFilter(Message.created_at, "Created (UTC)"))
    column_formatters = {
        "created_at": fmt.field("created_at", fmt.time_cell),
        "tags": lambda v, c, m, n: fmt.tag_list(m.tags),
        "deliveries": lambda v, c, m, n: Markup(" ").join(fmt.status_badge(d.status) for d in m.deliveries),
        "id": _message_link,
        "reference": _reference_link,
    }
    column_labels = {"created_at": "Created", "event_type": "Event", "id": "Message"}
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
        return self.render(self.details_template, message=message, payload=pretty(message.payload))


class AuditView(StaffModelView):
    """The audit log, newest first; admins only."""

    required_role = Role.ADMIN
    column_list = ("at", "actor", "action", "summary", "target_type", "target_ids", "ip")
    column_default_sort = [("at", True), ("id", True)]
    column_sortable_list = ()
    column_filters = ("actor", "action", "target_type", DateTimeBetweenFilter(AuditEntry.at, "At (UTC)"))
    column_formatters = {
        "at": fmt.field("at", fmt.time_cell),
        "target_ids": _targets,
    }
    column_labels = {"at": "At", "target_type": "Target", "target_ids": "Targets", "ip": "From",
                     "payload_purged_at": "Payload purged by retention"}
    can_view_details = True
    column_details_list = ("at", "actor", "ip", "action", "summary", "target_type", "target_ids", "before", "after",
                           "payload_purged_at")
