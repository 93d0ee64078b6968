"""Refused requests on the Inbound page: the requests no source accepted (bad signature, stale, too large, unknown
source), every source's samples together, one click from the Inbound page that counts them."""

from flask_admin import expose

from app.inbound import counts, queries
from app.models import utcnow


class RefusedRequestsMixin:
    """The Inbound page's "Refused requests" page (a mixin so the view module stays one concern)."""

    def refused_count(self):
        """Requests refused over the last 24 hours, every source together (the Inbound page's link says it)."""
        return counts.refused_24h(utcnow())

    @expose("/refused")
    def refused(self):
        """Show the newest refused requests kept, with the source each was sent to."""
        return self.render("admin/inbound/refused.html", rejections=queries.all_recent_rejections(),
                           refused=self.refused_count())
