"""Messages, read-only: newest first, each opening with its payload and every delivery."""

from flask import request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import DateTimeBetweenFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from app.admin.outbound.delivery_log import pretty
from app.admin.shared import formatters as fmt
from app.admin.shared.base import StaffModelView, or_404
from app.extensions import db
from app.models import Delivery, Message


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
    column_filters = ("event_type", "reference", DateTimeBetweenFilter(Message.created_at, _l("Created (UTC)")))
    column_formatters = {
        "created_at": fmt.field("created_at", fmt.time_cell),
        "tags": lambda v, c, m, n: fmt.tag_list(m.tags),
        "deliveries": lambda v, c, m, n: Markup(" ").join(fmt.status_badge(d.status) for d in m.deliveries),
        "id": _message_link,
        "reference": _reference_link,
    }
    column_labels = {"created_at": _l("Created"), "event_type": _l("Event"), "id": _l("Message"),
                     "reference": _l("Reference"), "tags": _l("Tags"), "deliveries": _l("Deliveries")}
    can_view_details = True
    view_label = _l("Open")
    details_template = "admin/outbound/message_details.html"

    def get_query(self):
        return super().get_query().options(
            selectinload(Message.tag_rows), selectinload(Message.deliveries).load_only(Delivery.status))

    def row_label(self, message):
        return f"{message.event_type} {message.reference or message.id}"

    def get_count_query(self):
        return None

    @expose("/details/")
    def details_view(self):
        message = or_404(db.session.get(Message, request.args.get("id", "")), _("No such message."))
        return self.render(self.details_template, message=message, payload=pretty(message.payload))
