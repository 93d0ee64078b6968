"""The one-line summary on every staff page: failing and disabled endpoints, and those their receiver asked to
pause, and how many deliveries wait for them ("2 endpoints failing, 1 disabled, 1 paused by its receiver; 41
deliveries waiting"), then the inbound sources an alert rule found
failing or rejecting, each a link to what shows why; expandable, and folded away for a while by whoever
dismisses it."""

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select

from app.audit import Action, record
from app.delivery.attempt.receiver_control import RECEIVER
from app.delivery.endpoints.figures import is_failing
from app.extensions import db
from app.models import Delivery, DeliveryStatus, Endpoint, EndpointState, InboundSource, utcnow
from app.runbooks import runbook_path

#: How long "dismiss" folds the summary away.
HIDE_FOR = timedelta(hours=1)


@dataclass
class Summary:
    """What the summary line says, and the endpoints behind it (each: endpoint, kind, waiting)."""

    endpoints: list = field(default_factory=list)
    waiting: int = 0
    hidden_until: object = None
    #: Inbound sources an alert rule found failing or rejecting (InboundSource rows, alerted set).
    sources: list = field(default_factory=list)

    def count(self, kind):
        return sum(1 for item in self.endpoints if item["kind"] == kind)

    def text(self):
        """The line, in the page's language ("2 endpoints failing, 1 disabled; 41 deliveries waiting")."""
        failing, disabled, paused = self.count("failing"), self.count("disabled"), self.count("paused")
        parts = [ngettext("%(num)d endpoint failing", "%(num)d endpoints failing", failing)] if failing else []
        if disabled:
            parts.append(_("%(count)s disabled", count=disabled))
        if paused:
            parts.append(ngettext("%(num)d paused by its receiver", "%(num)d paused by their receivers", paused))
        waiting = ngettext("%(num)d delivery waiting", "%(num)d deliveries waiting", self.waiting)
        text = escape(_("%(endpoints)s; %(waiting)s", endpoints=", ".join(parts), waiting=waiting)
                      if self.endpoints else "")
        for kind in ("failing", "rejecting"):
            sources = [s for s in self.sources if s.alerted == kind]
            if sources:
                links = Markup(", ").join(Markup('<a href="{}" data-banner="source-{}">{}</a>').format(
                    source_link(source), kind, source.name) for source in sources)
                runbook = Markup('<a href="{}" data-runbook>{}</a>').format(runbook_path(f"inbound_{kind}"),
                                                                           _("what to do"))
                text += Markup("{}{} ({}; {})").format("; " if text else "", _source_count(kind, len(sources)),
                                                       links, runbook)
        return text


def _source_count(kind, count):
    if kind == "failing":
        return ngettext("%(num)d inbound source failing", "%(num)d inbound sources failing", count)
    return ngettext("%(num)d inbound source rejecting", "%(num)d inbound sources rejecting", count)


def source_link(source):
    """Where a troubled source's reason shows: its failed events, or the Sources page when it rejects requests."""
    if source.alerted == "rejecting":
        return "/admin/inbound-sources/"
    return f"/admin/inbound/?{urlencode({'source': source.name, 'status': 'failed'})}"


def paused_by_receiver():
    """SQL: the endpoint is paused because its receiver asked (webhook-delivery: disable); staff resume it."""
    return (Endpoint.state == EndpointState.PAUSED) & (Endpoint.state_changed_by == RECEIVER.name)


def staff_summary():
    """Return the Summary for signed-in staff (None when signed out or nothing is wrong)."""
    if not current_user.is_authenticated:
        return None
    troubled = db.session.scalars(select(Endpoint).where(
        Endpoint.deleted_at.is_(None),
        or_(Endpoint.state == EndpointState.DISABLED, is_failing(), paused_by_receiver()),
    ).order_by(Endpoint.created_at)).all()
    sources = db.session.scalars(select(InboundSource).where(InboundSource.alerted.is_not(None))
                                 .order_by(InboundSource.name)).all()
    if not troubled and not sources:
        return None
    waiting = dict(db.session.execute(
        select(Delivery.endpoint_id, func.count()).where(Delivery.status == DeliveryStatus.PENDING,
                                                         Delivery.endpoint_id.in_([e.id for e in troubled]))
        .group_by(Delivery.endpoint_id)).all())
    hidden = current_user.banners_hidden_until
    summary = Summary(waiting=sum(waiting.values()), hidden_until=hidden if hidden and hidden > utcnow() else None,
                      sources=list(sources))
    for endpoint in troubled:
        kind = {EndpointState.DISABLED: "disabled", EndpointState.PAUSED: "paused"}.get(endpoint.state, "failing")
        summary.endpoints.append({"endpoint": endpoint, "kind": kind, "waiting": waiting.get(endpoint.id, 0)})
    return summary


def hide_summary(user, actor):
    """Fold the summary away for HIDE_FOR for this person (it comes back by itself)."""
    user.banners_hidden_until = utcnow() + HIDE_FOR
    summary = _l("folded the summary banner away for %(hours)s h", hours=format(HIDE_FOR.total_seconds() / 3600, "g"))
    record(actor, Action.USER_HIDE_BANNER, summary, target_type="user",
           target_ids=[user.id])
    db.session.commit()
