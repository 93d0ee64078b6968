"""Who is signed in and what they may do: roles, the audit actor, and safe local redirects."""

from urllib.parse import urlsplit

from flask import abort, request
from flask_login import current_user

from app.audit import Actor
from app.models import Role


def has_role(role):
    """Say whether the signed-in person holds role (or a higher one)."""
    return current_user.is_authenticated and current_user.has_role(role)


def require_role(role):
    """Abort with 403 unless the signed-in person holds role."""
    if not has_role(role):
        abort(403, description=f"This needs the {Role(role).value} role.")


def staff_actor():
    """The signed-in person as an audit Actor."""
    return Actor(current_user.email, request.remote_addr)


def local_url(target, fallback):
    """Return target if it is a path on this site, else fallback (no open redirects)."""
    parts = urlsplit(target or "")
    return target if target and target.startswith("/") and not parts.scheme and not parts.netloc else fallback
