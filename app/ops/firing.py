"""The alerts firing now, for the overview and the System page: what, since when, where the rows behind it are,
and its runbook. Rules that fire (AlertState) and endpoints failing or disabled, one list, oldest first."""

from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import or_, select

from app.delivery.endpoints.figures import is_failing
from app.extensions import db
from app.models import AlertState, Endpoint, EndpointState, InboundSource
from app.ops.alert_rules import rule_title
from app.runbooks import runbook_path


@dataclass(frozen=True)
class Firing:
    kind: str
    title: str
    summary: str
    since: object
    link: str
    runbook: str


def _query(path, **params):
    return f"{path}?{urlencode(params)}" if params else path


#: Where the rows behind a rule are shown, for the rules whose page does not depend on the subject.
_FIXED_LINKS = {
    "backlog": _query("/admin/", status="pending"),
    "no_worker": "/admin/system/",
    "inbound_unprocessed": _query("/admin/inbound/", status="received"),
    "inbound_rejecting": "/admin/inbound-sources/",
}


def _rule_link(state, source_names):
    """Where the rows behind a firing rule are shown, filtered."""
    subject = state.subject
    if state.rule == "success_rate":
        endpoint = subject.removeprefix("endpoint:") if subject.startswith("endpoint:") else None
        return _query("/admin/", **({"endpoint_id": endpoint} if endpoint else {}), status="failed")
    if state.rule in _FIXED_LINKS:
        return _FIXED_LINKS[state.rule]
    name = source_names.get(subject.removeprefix("source:"))
    if state.rule == "inbound_failing" and name:
        return _query("/admin/inbound/", source=name, status="failed")
    return _query("/admin/inbound/", source=name) if name else "/admin/inbound/"


def firing_now():
    """Every alert firing now, oldest first."""
    source_names = dict(db.session.execute(select(InboundSource.id, InboundSource.name)).all())
    alerts = [Firing(state.rule, rule_title(state.rule), state.summary or "", state.since,
                     _rule_link(state, source_names), runbook_path(state.rule))
              for state in db.session.scalars(select(AlertState).where(AlertState.firing.is_(True)))]
    for endpoint in db.session.scalars(select(Endpoint).where(
            Endpoint.deleted_at.is_(None), or_(Endpoint.state == EndpointState.DISABLED, is_failing()))):
        kind = "disabled" if endpoint.state is EndpointState.DISABLED else "failing"
        name = endpoint.name or endpoint.url
        summary = (f"{name}: {endpoint.state_reason}" if kind == "disabled" and endpoint.state_reason
                   else f"{name}: {endpoint.consecutive_failures} attempts in a row failed")
        since = endpoint.state_changed_at if kind == "disabled" else endpoint.failing_since
        alerts.append(Firing(f"endpoint_{kind}", f"Endpoint {kind}", summary, since,
                             _query("/admin/", endpoint_id=endpoint.id, status="failed"), runbook_path(kind)))
    return sorted(alerts, key=lambda a: (a.since is None, a.since or 0))
