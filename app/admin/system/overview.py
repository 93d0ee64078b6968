"""The overview: the console's first page. KPI cards, the last 24 hours in two charts, and the top errors."""

from flask import abort, request
from flask_admin import expose
from flask_babel import gettext as _

from app.admin.shared.base import StaffView
from app.admin.shared.formatters import relative
from app.admin.system import charts
from app.auth.access import has_role
from app.console.overview import (
    CHART_STATUSES,
    DEFAULT_RANGE,
    HOUR,
    RANGES,
    inbound_figures,
    rate_change,
    rate_level,
    take_overview,
)
from app.models import Role, utcnow
from app.ops.firing import firing_now
from app.staff.settings import get_setting


class OverviewView(StaffView):
    """Figures for every staff member; "retry this group" leads operators to the bulk job's confirmation."""

    def _context(self):
        span = RANGES.get(request.args.get("range", DEFAULT_RANGE.key))
        if span is None:
            abort(400, description=_("range must be one of %(ranges)s", ranges=", ".join(RANGES)))
        figures = take_overview(utcnow(), span)
        ticks = (span.tick_seconds, span.tick_format)
        return dict(
            o=figures, hour=HOUR, statuses=CHART_STATUSES, relative=relative, can_operate=has_role(Role.OPERATOR),
            delivery_chart=charts.stacked_bars(figures.deliveries, span.bucket_seconds, ticks),
            latency_chart=charts.latency_lines(figures.latency, ticks), span=span, ranges=list(RANGES.values()),
            refresh_seconds=get_setting("refresh_seconds"),
            inbound=inbound_figures(figures.now), firing=firing_now(), rate_level=rate_level, rate_change=rate_change,
            alert_threshold=get_setting("alert_success_rate_percent"),
        )

    @expose("/")
    def index(self):
        """Show the overview."""
        return self.render("admin/system/overview.html", **self._context())

    @expose("/figures")
    def figures(self):
        """Return the figures alone: what the page swaps in when it refreshes itself."""
        return self.render("admin/system/overview_figures.html", **self._context())
