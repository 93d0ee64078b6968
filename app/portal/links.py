"""Portal links: a partner's bearer link to its own endpoints, stored as a SHA-256 digest, shown once, expiring,
revocable at once. Creating, opening and revoking one is audited."""

import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.audit import Action, Actor, record
from app.credentials.tokens import token_digest
from app.delivery.endpoints.service import get_endpoint
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import PortalLink, utcnow
from app.rows import get_or_not_found

#: Every link token starts with this, so a leaked one is easy to recognise in a scanner.
TOKEN_PREFIX = "hyp_"
#: What a link may allow: view (always), replay (retry and replay), manage (URL, event types, rotate, test),
#: secret (read the signing secret).
CAPABILITIES = ("view", "replay", "manage", "secret")
#: The shortest and longest life of a link, in seconds.
MIN_EXPIRES_IN, MAX_EXPIRES_IN = 60, 90 * 24 * 3600
#: The most endpoints one link may reach.
MAX_ENDPOINTS = 50


#: The stored form of a link token.
digest = token_digest


def check_capabilities(capabilities):
    """Return capabilities in their canonical order, view included; InvalidInput for anything unknown."""
    if capabilities is None:
        capabilities = []
    if not isinstance(capabilities, list | tuple) or not all(isinstance(c, str) for c in capabilities):
        raise InvalidInput(_l("capabilities must be a list of names"), field="capabilities")
    unknown = sorted(set(capabilities) - set(CAPABILITIES))
    if unknown:
        raise InvalidInput(_l("capabilities must be some of %(capabilities)s", capabilities=', '.join(CAPABILITIES)),
                           field="capabilities")
    return [c for c in CAPABILITIES if c == "view" or c in capabilities]


def _check_endpoints(endpoint_ids):
    if (not isinstance(endpoint_ids, list | tuple) or not endpoint_ids or len(endpoint_ids) > MAX_ENDPOINTS
            or not all(isinstance(i, str) and i.isprintable() for i in endpoint_ids)):
        raise InvalidInput(_l("endpoint_ids must list 1 to %(max_endpoints)s endpoint ids",
                              max_endpoints=MAX_ENDPOINTS), field="endpoint_ids")
    ids = list(dict.fromkeys(endpoint_ids))
    for endpoint_id in ids:
        try:
            get_endpoint(endpoint_id)
        except NotFound:
            raise InvalidInput(_l("no endpoint with id %(endpoint_id)s", endpoint_id=endpoint_id),
                               field="endpoint_ids") from None
    return ids


def _check_expiry(expires_in):
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) \
            or not MIN_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN:
        raise InvalidInput(_l("expires_in must be a whole number of seconds from %(min_expires_in)s to "
                              "%(max_expires_in)s", min_expires_in=MIN_EXPIRES_IN, max_expires_in=MAX_EXPIRES_IN),
                           field="expires_in")
    return expires_in


def create_link(endpoint_ids, capabilities, expires_in, *, actor, audit=True):
    """Create a link to endpoint_ids; return (row, token). The token is not stored and cannot be shown again."""
    ids, caps, seconds = _check_endpoints(endpoint_ids), check_capabilities(capabilities), _check_expiry(expires_in)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = PortalLink(token_hash=digest(token), endpoint_ids=ids, capabilities=caps, created_at=now,
                     created_by=actor.name, expires_at=now + timedelta(seconds=seconds))
    db.session.add(row)
    db.session.flush()
    if audit:
        summary = _l("created portal link %(link)s to %(endpoints)s", link=row.id, endpoints=", ".join(ids))
        record(actor, Action.PORTAL_LINK_CREATE, summary,
               target_type="portal_link", target_ids=[row.id],
               after={"endpoint_ids": ids, "capabilities": caps, "expires_at": row.expires_at.isoformat()})
    db.session.commit()
    return row, token


def list_links(endpoint_id=None):
    """Every link, newest first (revoked and expired ones too); only those reaching endpoint_id when given."""
    rows = db.session.scalars(select(PortalLink).order_by(PortalLink.created_at.desc(), PortalLink.id.desc())).all()
    return [row for row in rows if endpoint_id is None or endpoint_id in row.endpoint_ids]


def get_link(link_id):
    """Return the link or raise NotFound."""
    return get_or_not_found(PortalLink, link_id, f"no portal link with id {link_id}", text_key=True)


def revoke_link(link_id, *, actor):
    """Revoke a link at once, and with it every session opened with it; audited. Revoking twice changes nothing."""
    row = get_link(link_id)
    changed = db.session.execute(
        update(PortalLink).where(PortalLink.id == row.id, PortalLink.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by=actor.name).execution_options(synchronize_session=False)).rowcount
    if changed:
        summary = _l("revoked portal link %(link)s", link=row.id)
        record(actor, Action.PORTAL_LINK_REVOKE, summary, target_type="portal_link",
               target_ids=[row.id])
    db.session.commit()
    db.session.refresh(row)
    return row


def is_live(row, now=None):
    """Say whether a link still opens and serves: not revoked, not expired."""
    return row is not None and row.revoked_at is None and row.expires_at > (now or utcnow())


def live_link(link_id):
    """The live link with this id, or None (revoked, expired, unknown): read on every portal request."""
    row = db.session.get(PortalLink, link_id, populate_existing=True) if isinstance(link_id, str) else None
    return row if is_live(row) else None


def open_link(token, ip=None):
    """Exchange a token for its live link (noting and auditing the opening), or None for anything else."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(select(PortalLink).where(PortalLink.token_hash == digest(token)))
    if not is_live(row):
        return None
    row.last_opened_at = utcnow()
    summary = _l("opened portal link %(link)s", link=row.id)
    record(partner_actor(row, ip), Action.PORTAL_OPEN, summary, target_type="portal_link",
           target_ids=[row.id])
    db.session.commit()
    return row


def partner_actor(row, ip=None):
    """The partner holding a link, as an audit Actor ("portal:<link id>")."""
    return Actor(f"portal:{row.id}", ip)
