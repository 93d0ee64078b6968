"""The audit log, read-only (admins): who did what, when, from where, with links to what it changed."""

from flask import url_for
from flask_admin.contrib.sqla.filters import DateTimeBetweenFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.admin.shared import formatters as fmt
from app.admin.shared.base import StaffModelView
from app.audit import shown_summary
from app.models import AuditEntry, Role

#: Where an audit entry's target ids lead, by target type: (endpoint, its id argument, or None for a list page that
#: holds every row of the type).
TARGET_PAGES = {
    "delivery": ("monitor.log_view", "delivery_id"), "message": ("messages.details_view", "id"),
    "endpoint": ("endpoints.manage", "endpoint_id"), "job": ("jobs.job_view", "job_id"),
    "user": ("users.edit_view", "id"), "inbound_source": ("inbound_sources.manage", "source_id"),
    "inbound_event": ("inbound_events.event_view", "event_id"), "api_key": ("api_keys.index", None),
    "event_type": ("catalog.index", None), "reference_link": ("reference_links.index", None),
    "setting": ("settings.index", None), "alert": ("runbooks.index", None),
}


def target_link(target_type, target_id, href=None):
    """A link to the page of what an audit entry names (href, when the entry itself says where), or its id as text
    when it has no page."""
    page = TARGET_PAGES.get(target_type)
    if href is None and page is not None:
        href = url_for(page[0], **({page[1]: target_id} if page[1] else {}))
    if href is None:
        return Markup("{}").format(target_id)
    return Markup('<a href="{}" data-target-link>{}</a>').format(href, target_id)


def _targets(view, context, entry, name):
    ids = entry.target_ids or []
    href = (entry.after or {}).get("link") if entry.target_type == "alert" else None  # the rows the alert is about
    links = Markup(", ").join(target_link(entry.target_type, i, href) for i in ids[:5])
    return links + (Markup(" … ({})").format(_("%(count)s in all", count=len(ids))) if len(ids) > 5 else "")


class AuditView(StaffModelView):
    """The audit log, newest first; admins only."""

    required_role = Role.ADMIN
    column_list = ("at", "actor", "action", "summary", "target_type", "target_ids", "ip")
    column_default_sort = [("at", True), ("id", True)]
    column_sortable_list = ()
    column_filters = ("actor", "action", "target_type", DateTimeBetweenFilter(AuditEntry.at, _l("At (UTC)")))
    column_formatters = {
        "at": fmt.field("at", fmt.time_cell),
        "target_ids": _targets,
        "summary": lambda view, context, entry, name: shown_summary(entry),  # in the reader's language
    }
    column_labels = {"at": _l("At"), "target_type": _l("Target"), "target_ids": _l("Targets"), "ip": _l("From"),
                     "payload_purged_at": _l("Payload purged by retention"), "actor": _l("Actor"),
                     "action": _l("Action"), "summary": _l("Summary"), "before": _l("Before"), "after": _l("After")}
    can_view_details = True
    view_label = _l("Details")
    column_details_list = ("at", "actor", "ip", "action", "summary", "target_type", "target_ids", "before", "after",
                           "payload_purged_at")

    def row_label(self, entry):
        return _("%(action)s by %(actor)s", action=entry.action, actor=entry.actor)
