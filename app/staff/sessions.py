"""Staff sessions on the server: opened at sign-in, checked on every request, ended on purpose.

The session cookie carries a random token; only its SHA-256 is stored, so a copy of the table signs nobody
in. Signing out ends that session; a password change, a role change or a deactivation ends all of the
user's sessions (the browser that changed its password gets a new one). A session also ends
PERMANENT_SESSION_LIFETIME after sign-in, however busy.
"""

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.credentials.tokens import token_digest
from app.extensions import db
from app.models import StaffSession, User, utcnow

#: last_seen_at is written at most this often, so a busy page does not write on every request.
SEEN_INTERVAL = timedelta(minutes=1)


def open_session(user, ip=None):
    """Record a new session for user (the caller commits); return its token, for the session cookie only."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(StaffSession(id=token_digest(token), user_id=user.id, created_at=now, last_seen_at=now,
                                expires_at=now + current_app.permanent_session_lifetime, ip=ip))
    return token


def user_for(token, user_id):
    """Return the active user whose live session token is, or None (ended, expired, someone else's)."""
    if not token or not user_id:
        return None
    now = utcnow()
    row = db.session.execute(
        select(User, StaffSession).join(StaffSession, StaffSession.user_id == User.id)
        .where(StaffSession.id == token_digest(token), StaffSession.ended_at.is_(None), StaffSession.expires_at > now,
               User.id == user_id, User.active.is_(True))
    ).one_or_none()
    if row is None:
        return None
    user, staff_session = row
    if now - staff_session.last_seen_at > SEEN_INTERVAL:
        staff_session.last_seen_at = now
        db.session.commit()
    return user


def end_session(token, reason):
    """End one session (the caller commits)."""
    db.session.execute(update(StaffSession)
                       .where(StaffSession.id == token_digest(token), StaffSession.ended_at.is_(None))
                       .values(ended_at=utcnow(), ended_reason=reason).execution_options(synchronize_session=False))


def end_user_sessions(user_id, reason):
    """End every live session of a user (the caller commits); return how many ended."""
    return db.session.execute(
        update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason).execution_options(synchronize_session=False)).rowcount
