"""Secret rotation with grace, for endpoints and inbound sources alike: a new secret is live at once; a retired
one stays live beside it until its grace ends."""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.credentials import crypto
from app.errors import InvalidInput
from app.models import utcnow

#: Old secrets kept live at once, at most (receivers check every signature in the header).
MAX_RETIRED = 10


def _live(retired, now):
    return [s for s in retired or [] if datetime.fromisoformat(s["expires_at"]) > now]


def live_secrets(owner, now=None):
    """Return the secrets live now, newest first (decrypted): the current one, then each retired one not yet expired.

    owner is anything with secret_encrypted and retired_secrets (an endpoint, an inbound source, a row of either)."""
    now = now or utcnow()
    retired = sorted(_live(owner.retired_secrets, now), key=lambda s: s["expires_at"], reverse=True)
    return [crypto.decrypt(owner.secret_encrypted)] + [crypto.decrypt(s["secret"]) for s in retired]


def check_grace(grace_seconds):
    """Return the grace period in seconds (the configured default when None); refuse one outside 0 to 7 days."""
    config = current_app.config
    grace = config["WEBHOOK_ROTATION_GRACE_SECONDS"] if grace_seconds is None else grace_seconds
    limit = config["WEBHOOK_ROTATION_MAX_GRACE_SECONDS"]
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= limit:
        raise InvalidInput(_l("grace_seconds must be a whole number from 0 to %(limit)s (7 days)", limit=limit),
                           field="grace_seconds")
    return grace


def retire_current(owner, grace, now):
    """Return owner's retired secrets once its current one is retired for grace seconds (expired ones dropped).

    owner is anything with secret_encrypted and retired_secrets (an endpoint, an inbound source)."""
    retired = _live(owner.retired_secrets, now)
    if grace:
        retired.append({"secret": owner.secret_encrypted, "expires_at": (now + timedelta(seconds=grace)).isoformat()})
    if len(retired) > MAX_RETIRED:
        raise InvalidInput(_l("%(max_retired)s old secrets are still in their grace period; wait for one to expire "
                              "or rotate with grace_seconds=0", max_retired=MAX_RETIRED), field="grace_seconds")
    return retired
