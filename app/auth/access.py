"""Who is signed in and what they may do: roles, the audit actor, and safe local redirects."""

from urllib.parse import urlsplit, urlunsplit

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user

from app.audit import Actor
from app.models import Role
from app.text import has_control


def has_role(role):
    """Say whether the signed-in person holds role (or a higher one)."""
    return current_user.is_authenticated and current_user.has_role(role)


def require_role(role):
    """Abort with 403 unless the signed-in person holds role."""
    if not has_role(role):
        abort(403, description=_("This needs the %(role)s role.", role=Role(role).value))


def staff_actor():
    """The signed-in person as an audit Actor."""
    return Actor(current_user.email, request.remote_addr)


def local_url(target, fallback):
    """Return target as a path on this site (an absolute URL of this very site becomes its path), else fallback:
    no open redirects, no links off the site.

    Browsers read a backslash as a slash and drop tabs and line breaks inside a URL, so a path spelled with
    either could lead off the site: anything but a plain path is refused.
    """
    if not isinstance(target, str) or has_control(target, one_line=True) or "\\" in target:
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. "//[" (an unbalanced IPv6 bracket)
        return fallback
    if parts.scheme in ("http", "https") and parts.netloc == request.host:
        parts = parts._replace(scheme="", netloc="")
    elif parts.scheme or parts.netloc:
        return fallback
    path = urlunsplit(parts)
    return path if path.startswith("/") and not path.startswith("//") else fallback
