"""The one-line summary on every staff page: failing and disabled endpoints, and those their receiver asked to
pause, and how many deliveries wait for them ("2 endpoints failing, 1 disabled, 1 paused by its receiver; 41
deliveries waiting"), then the inbound sources an alert rule found
failing or rejecting, each a link to what shows why; expandable, and folded away for a while by whoever
dismisses it."""

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select

from app.audit import Action, record
from app.delivery.attempt.receiver_control import RECEIVER
from app.delivery.endpoints.figures import is_failing
from app.extensions import db
from app.models import Delivery, DeliveryStatus, Endpoint, EndpointState, InboundSource, utcnow

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
        failing, disabled, paused = self.count("failing"), self.count("disabled"), self.count("paused")
        parts = [f"{failing} endpoint{'s' if failing != 1 else ''} failing"] if failing else []
        if disabled:
            parts.append(f"{disabled} disabled")
        if paused:
            parts.append(f"{paused} paused by {'its receiver' if paused == 1 else 'their receivers'}")
        text = escape(", ".join(parts) + f"; {self.waiting} deliver{'y' if self.waiting == 1 else 'ies'} waiting"
                      if self.endpoints else "")
        for kind in ("failing", "rejecting"):
            sources = [s for s in self.sources if s.alerted == kind]
            if sources:
                links = Markup(", ").join(Markup('<a href="{}" data-banner="source-{}">{}</a>').format(
                    source_link(source), kind, source.name) for source in sources)
                noun = "inbound source" if len(sources) == 1 else "inbound sources"
                text += Markup("{}{} {} {} ({})").format("; " if text else "", len(sources), noun, kind, links)
        return text


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
    record(actor, Action.USER_HIDE_BANNER, f"folded the summary banner away for {HIDE_FOR}", target_type="user",
           target_ids=[user.id])
    db.session.commit()
