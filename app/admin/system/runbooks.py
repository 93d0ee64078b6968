"""The runbooks: one page per alert kind (what it means, what to check, what to do), linked from alerts, e-mails
and banners."""

from flask import abort
from flask_admin import expose

from app.admin.shared.base import StaffView
from app.runbooks import RUNBOOKS, runbook_for


class RunbookView(StaffView):
    """Read-only: every signed-in member of staff may look."""

    @expose("/")
    def index(self):
        """List every runbook."""
        return self.render("admin/system/runbooks.html", runbooks=list(RUNBOOKS.values()))

    @expose("/<kind>")
    def show(self, kind):
        """Show the runbook of one alert kind (404 for an unknown one)."""
        book = runbook_for(kind)
        if book is None:
            abort(404)
        return self.render("admin/system/runbook.html", book=book)
