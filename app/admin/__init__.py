"""The staff UI: Flask-Admin views for the overview, monitor, records, jobs, users and settings."""

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from app.admin import formatters as fmt
from app.admin.banners import staff_banners
from app.admin.base import HomeView
from app.admin.deliveries import DeliveryView
from app.admin.endpoints import EndpointView
from app.admin.jobs import JobView
from app.admin.overview import OverviewView
from app.admin.people import SettingsView, UserView
from app.admin.records import AuditView, MessageView
from app.admin.system import SystemView
from app.extensions import db
from app.models import AuditEntry, Delivery, Message, User, utcnow


def init_admin(app):
    """Register the admin views, template helpers and banners on app."""
    admin = Admin(app, name="Hookyard", url="/admin", index_view=HomeView(url="/admin/home", name="Home"),
                  theme=Bootstrap4Theme(base_template="admin/hookyard_base.html", fluid=True))
    admin.add_view(OverviewView(name="Overview", url="/admin/overview", endpoint="overview"))
    admin.add_view(DeliveryView(Delivery, db, name="Sync monitor", url="/admin", endpoint="monitor"))
    admin.add_view(MessageView(Message, db, name="Messages", endpoint="messages"))
    admin.add_view(EndpointView(name="Endpoints", url="/admin/endpoints", endpoint="endpoints"))
    admin.add_view(JobView(name="Bulk jobs", url="/admin/jobs", endpoint="jobs"))
    admin.add_view(AuditView(AuditEntry, db, name="Audit log", endpoint="audit"))
    admin.add_view(UserView(User, db, name="Users", endpoint="users"))
    admin.add_view(SettingsView(name="Settings", url="/admin/settings", endpoint="settings"))
    admin.add_view(SystemView(name="System", url="/admin/system", endpoint="system"))
    app.jinja_env.globals.update(time_cell=fmt.time_cell, status_badge=fmt.status_badge, tag_list=fmt.tag_list,
                                 staff_banners=staff_banners, utcnow=utcnow,
                                 response_body=fmt.response_body)
    return admin
