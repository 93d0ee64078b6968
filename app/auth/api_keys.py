"""Producer API keys: created once, stored as a SHA-256 digest, checked on every API request."""

import hashlib
import secrets

from sqlalchemy import select

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


def authenticate(key):
    """Return the live ApiKey matching key, or None."""
    if not key or not key.startswith(KEY_PREFIX):
        return None
    row = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(key), ApiKey.revoked_at.is_(None)))
    if row is not None:
        now = utcnow()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            row.last_used_at = now
            db.session.commit()
    return row
