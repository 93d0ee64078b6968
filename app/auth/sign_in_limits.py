"""Rate limits on sign-in and password changes.

Sign-in is limited per address and per (address, account), never per account alone: a stranger failing
from elsewhere cannot lock the real person out. Every key is a hash of bounded input, so an oversized
"email" cannot write a large key into the limiter's storage (Redis).
"""

import hashlib

from flask import current_app, request
from flask_login import current_user

#: Longest email address (RFC 5321); anything after it plays no part in a key.
MAX_EMAIL = 254


def _key(kind, *parts):
    return f"{kind}:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def submitted_email():
    """The email typed into the sign-in form, bounded and normalised."""
    return (request.form.get("email") or "")[:MAX_EMAIL].strip().lower()


def by_address():
    """One bucket per client address."""
    return _key("address", request.remote_addr or "")


def by_address_and_account():
    """One bucket per client address and account tried."""
    return _key("account", request.remote_addr or "", submitted_email())


def by_user():
    """One bucket per signed-in person (per address for anyone else)."""
    who = str(current_user.get_id()) if current_user.is_authenticated else request.remote_addr or ""
    return _key("user", who)


def login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def login_account_limit():
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def password_limit():
    return current_app.config["PASSWORD_CHANGE_RATE_LIMIT"]
