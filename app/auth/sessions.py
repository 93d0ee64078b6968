"""The staff session cookie: a fresh one at every sign-in, checked against the server on every request.

The cookie (Flask's signed session) carries the token of a row in staff_sessions (app.staff.sessions); a
copied cookie stops working as soon as that row is ended, by signing out, a password change, a role change
or a deactivation.
"""

from flask import request, session
from flask_login import login_user, logout_user

from app.extensions import db
from app.staff import sessions

#: The key of the session token in Flask's session cookie.
TOKEN_KEY = "staff_session"


def start(user):
    """Sign user in with a new session. IMPORTANT: the old cookie's contents go, its CSRF secret included, so
    nothing planted before sign-in (session fixation) or read from the sign-in page survives it."""
    session.clear()
    token = sessions.open_session(user, request.remote_addr)
    db.session.commit()
    session[TOKEN_KEY] = token
    login_user(user)


def current_token():
    """The token of the session this request belongs to, or None."""
    return session.get(TOKEN_KEY)


def load(user_id):
    """Return the user this request's session signs in, or None (Flask-Login's user loader)."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    return sessions.user_for(current_token(), user_id)


def end(reason="signed out"):
    """Sign out: end this session on the server and forget the cookie's contents."""
    token = current_token()
    if token:
        sessions.end_session(token, reason)
        db.session.commit()
    logout_user()
    session.clear()
