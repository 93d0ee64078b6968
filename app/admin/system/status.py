"""The System page: workers alive and their versions, queues, periodic runs, alert history."""

from flask_admin import expose
from sqlalchemy import select

from app.admin.shared.base import StaffView
from app.extensions import db
from app.models import AuditEntry
from app.ops.alert_rules import ALERT_ACTIONS
from app.ops.firing import firing_now
from app.ops.system import system_status

#: Alert history entries shown.
HISTORY = 50


def alert_history(limit=HISTORY):
    """Return the latest alerts (rules firing and recovering, endpoints failing, disabled, recovered)."""
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(ALERT_ACTIONS))
                              .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)).all()


class SystemView(StaffView):
    """Read-only: every signed-in member of staff may look."""

    @expose("/")
    def index(self):
        return self.render("admin/system/system.html", system=system_status(), history=alert_history(),
                           firing=firing_now())
