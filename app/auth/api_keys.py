"""Producer API keys: created once, stored as a SHA-256 digest, checked on every API request, scoped, revocable.

Every change is audited. A key is shown once, when created; afterwards only its name and prefix are.
"""

import hashlib
import secrets

from sqlalchemy import bindparam, select, update

from app.audit import CLI, Action, record
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import ApiKey, utcnow
from app.text import check_text

#: Every key starts with this, so a leaked one is easy to recognise in a scanner.
KEY_PREFIX = "hky_"
#: What a key may be allowed to do. "read" covers every GET.
SCOPES = ("read", "messages:write", "endpoints:write", "deliveries:write", "inbound:write")


def _digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def _check_scopes(scopes):
    if scopes is None:
        return None  # every scope, now and later
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInput(f"scopes must be some of {', '.join(SCOPES)}", field="scopes")
    return [scope for scope in SCOPES if scope in scopes]


def create_api_key(name, scopes=None, *, actor=CLI):
    """Create a key allowed scopes (None: all); return (row, key). The key is not stored and cannot be shown
    again."""
    name = check_text(name, "name", 200) if isinstance(name, str) else None
    if name is None:
        raise InvalidInput("an API key needs a name of 1 to 200 characters", field="name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=key[:10], key_hash=_digest(key), scopes=_check_scopes(scopes))
    db.session.add(row)
    db.session.flush()
    record(actor, Action.API_KEY_CREATE, f"created API key {row.name} ({row.prefix}…)", target_type="api_key",
           target_ids=[row.id], after={"name": row.name, "scopes": row.scopes or "all"})
    db.session.commit()
    return row, key


def list_api_keys():
    """Every key, newest first (revoked ones too)."""
    return db.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())).all()


def revoke_api_key(key_id, *, actor):
    """Revoke a key at once; audited. Revoking a revoked key changes nothing."""
    row = db.session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = utcnow(), actor.name
        record(actor, Action.API_KEY_REVOKE, f"revoked API key {row.name} ({row.prefix}…)", target_type="api_key",
               target_ids=[row.id])
        db.session.commit()
    return row


def allows(row, scope):
    """Say whether the key may act in scope (keys without scopes, such as older ones, may do everything)."""
    return row.scopes is None or scope in row.scopes


#: The columns a request needs of its key (a plain row: no ORM object per API call).
_LOOKUP = select(ApiKey.id, ApiKey.name, ApiKey.scopes, ApiKey.last_used_at).where(
    ApiKey.key_hash == bindparam("digest"), ApiKey.revoked_at.is_(None))


def authenticate(key):
    """Return the live key matching key (id, name, scopes, last_used_at), or None. Notes its use once a minute."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    row = db.session.execute(_LOOKUP, {"digest": _digest(key)}).first()
    if row is not None:
        now = utcnow()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            db.session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
            db.session.commit()
    return row
