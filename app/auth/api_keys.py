"""Producer API keys: created once, stored as a SHA-256 digest, checked on every API request."""

import hashlib
import secrets

from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models import ApiKey, utcnow

#: Every key starts with this, so a leaked one is easy to recognise in a scanner.
KEY_PREFIX = "hky_"


def _digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(name):
    """Create a key; return (row, key). The key itself is not stored and cannot be shown again."""
    if not name or len(name) > 200:
        raise ValueError("an API key needs a name of 1 to 200 characters")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=key[:10], key_hash=_digest(key))
    db.session.add(row)
    db.session.commit()
    return row, key


#: The columns a request needs of its key (a plain row: no ORM object per API call).
_LOOKUP = select(ApiKey.id, ApiKey.name, ApiKey.last_used_at).where(
    ApiKey.key_hash == bindparam("digest"), ApiKey.revoked_at.is_(None))


def authenticate(key):
    """Return the live key matching key (id, name, last_used_at), or None. Notes its use once a minute."""
    if not key or not key.startswith(KEY_PREFIX):
        return None
    row = db.session.execute(_LOOKUP, {"digest": _digest(key)}).first()
    if row is not None:
        now = utcnow()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            db.session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
            db.session.commit()
    return row
