"""The staff UI. Flask-Admin is its chrome: the menu, the Bootstrap theme, the access hook (base.StaffMixin) and the
monitor's bulk-action dispatch. Three lists are ModelViews used as designed (messages, audit log, users); every other
page is hand-built on base.StaffView, because live htmx rows, tabs with counts and one filter shared with the API
and the bulk jobs do not fit a ModelView. State changes go through posting.staff_post.

The rooms: outbound/ (monitor, delivery log, endpoints, bulk jobs, messages, send an event), inbound/ (events,
sources), people/ (users, API keys, settings, preferences), system/ (overview, system page, audit log); beside them
the shared parts (base, posting, listing, staff_actions, common, formatters, banners). templates/admin/ has the same
rooms.
"""

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from app.admin.inbound.events import InboundEventView
from app.admin.inbound.sources import InboundSourceView
from app.admin.outbound.catalog import CatalogView
from app.admin.outbound.delivery_rows import retry_blocked
from app.admin.outbound.endpoints import EndpointView
from app.admin.outbound.jobs import JobView, job_skip_reason
from app.admin.outbound.messages import MessageView
from app.admin.outbound.monitor import DeliveryView
from app.admin.outbound.send_event import SendEventView
from app.admin.people.accounts import UserView
from app.admin.people.api_keys import ApiKeyView
from app.admin.people.preferences import PreferencesView
from app.admin.people.reference_links import ReferenceLinkView
from app.admin.people.settings_page import SettingsView
from app.admin.shared import formatters as fmt
from app.admin.shared.banners import staff_summary
from app.admin.shared.base import HomeView
from app.admin.shared.script_words import script_words
from app.admin.system.audit_log import AuditView
from app.admin.system.overview import OverviewView
from app.admin.system.runbooks import RunbookView
from app.admin.system.status import SystemView
from app.audit import shown_summary
from app.credentials.masking import mask_outbound_headers
from app.delivery.attempt.ordering import waiting_for
from app.delivery.attempt.superseded import superseding_id
from app.extensions import db
from app.models import AuditEntry, Delivery, Message, User, utcnow
from app.staff.settings import get_setting
from app.status_words import error_label


def init_admin(app):
    """Register the admin views, template helpers and banners on app."""
    admin = Admin(app, name="Hookyard", url="/admin", index_view=HomeView(url="/admin/home", name=_l("Home")),
                  theme=Bootstrap4Theme(base_template="admin/hookyard_base.html", fluid=True),
                  csp_nonce_generator=app.jinja_env.globals["csp_nonce"])
    admin.add_view(OverviewView(name=_l("Overview"), url="/admin/overview", endpoint="overview"))
    admin.add_view(DeliveryView(Delivery, db, name=_l("Sync monitor"), url="/admin", endpoint="monitor"))
    admin.add_view(InboundEventView(name=_l("Inbound"), url="/admin/inbound", endpoint="inbound_events"))
    admin.add_view(MessageView(Message, db, name=_l("Messages"), endpoint="messages"))
    admin.add_view(EndpointView(name=_l("Endpoints"), url="/admin/endpoints", endpoint="endpoints"))
    admin.add_view(CatalogView(name=_l("Event catalog"), url="/admin/event-types", endpoint="catalog"))
    admin.add_view(InboundSourceView(name=_l("Inbound sources"), url="/admin/inbound-sources",
                                     endpoint="inbound_sources"))
    admin.add_view(JobView(name=_l("Bulk jobs"), url="/admin/jobs", endpoint="jobs"))
    admin.add_view(SendEventView(name=_l("Send an event"), url="/admin/send-event", endpoint="send_event"))
    admin.add_view(AuditView(AuditEntry, db, name=_l("Audit log"), endpoint="audit"))
    admin.add_view(UserView(User, db, name=_l("Users"), endpoint="users"))
    admin.add_view(ApiKeyView(name=_l("API keys"), url="/admin/api-keys", endpoint="api_keys"))
    admin.add_view(ReferenceLinkView(name=_l("Reference links"), url="/admin/reference-links",
                                     endpoint="reference_links"))
    admin.add_view(SettingsView(name=_l("Settings"), url="/admin/settings", endpoint="settings"))
    admin.add_view(SystemView(name=_l("System"), url="/admin/system", endpoint="system"))
    admin.add_view(RunbookView(name=_l("Runbooks"), url="/admin/runbooks", endpoint="runbooks"))
    admin.add_view(PreferencesView(name=_l("Preferences"), url="/admin/preferences", endpoint="preferences"))
    app.jinja_env.globals.update(time_cell=fmt.time_cell, status_badge=fmt.status_badge, status_label=fmt.status_label,
                                 tag_list=fmt.tag_list,
                                 duration=fmt.duration, viewer_zone=fmt.viewer_zone, page_numbers=fmt.page_numbers,
                                 staff_summary=staff_summary, script_words=script_words, retry_blocked=retry_blocked,
                                 utcnow=utcnow, waiting_for=waiting_for, setting=get_setting,
                                 superseding_id=superseding_id, audit_summary=shown_summary,
                                 job_skip_reason=job_skip_reason, error_label=error_label,
                                 response_body=fmt.response_body, reference_link=fmt.reference_link)
    # Attempts recorded before every custom header value was masked still hold some in clear: mask on display too.
    app.jinja_env.filters["masked_headers"] = mask_outbound_headers
    return admin
