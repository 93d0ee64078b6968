"""Secret rotation: a new secret signs at once; the old one keeps signing beside it until its grace ends."""

from datetime import datetime, timedelta

from flask import current_app

from app.audit import record
from app.delivery.attempt import signing
from app.delivery.endpoints.service import get_endpoint, secrets
from app.errors import InvalidInput
from app.extensions import db
from app.models import utcnow

#: Old secrets kept signing at once, at most (receivers check every signature in the header).
MAX_RETIRED = 10


def _live(retired, now):
    return [s for s in retired or [] if datetime.fromisoformat(s["expires_at"]) > now]


def signing_secrets(endpoint, now=None):
    """The secrets that sign this endpoint's webhooks now, newest first (decrypted).

    endpoint is anything with secret_encrypted and retired_secrets (a row or an Endpoint)."""
    now = now or utcnow()
    retired = sorted(_live(endpoint.retired_secrets, now), key=lambda s: s["expires_at"], reverse=True)
    return [secrets.decrypt(endpoint.secret_encrypted)] + [secrets.decrypt(s["secret"]) for s in retired]


def check_grace(grace_seconds):
    """Return the grace period in seconds (the configured default when None); refuse one outside 0 to 7 days."""
    config = current_app.config
    grace = config["WEBHOOK_ROTATION_GRACE_SECONDS"] if grace_seconds is None else grace_seconds
    limit = config["WEBHOOK_ROTATION_MAX_GRACE_SECONDS"]
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= limit:
        raise InvalidInput(f"grace_seconds must be a whole number from 0 to {limit} (7 days)", field="grace_seconds")
    return grace


def retire_current(owner, grace, now):
    """Return owner's retired secrets once its current one is retired for grace seconds (expired ones dropped).

    owner is anything with secret_encrypted and retired_secrets (an endpoint, an inbound source)."""
    retired = _live(owner.retired_secrets, now)
    if grace:
        retired.append({"secret": owner.secret_encrypted, "expires_at": (now + timedelta(seconds=grace)).isoformat()})
    if len(retired) > MAX_RETIRED:
        raise InvalidInput(f"{MAX_RETIRED} old secrets are still in their grace period; wait for one to expire or "
                           "rotate with grace_seconds=0", field="grace_seconds")
    return retired


def rotate_secret(endpoint_id, *, actor, grace_seconds=None):
    """Replace the endpoint's secret; return (endpoint, new secret), the only time the secret is shown.

    The old secret keeps signing beside the new one for grace_seconds (default 24 h, at most 7 days).
    """
    grace = check_grace(grace_seconds)
    endpoint = get_endpoint(endpoint_id)
    now = utcnow()
    retired = retire_current(endpoint, grace, now)
    secret = signing.generate_secret()
    endpoint.secret_encrypted, endpoint.secret_created_at, endpoint.retired_secrets = (
        secrets.encrypt(secret), now, retired)
    record(actor, "endpoint.rotate_secret", f"rotated the secret of {endpoint.url}; the old one signs for {grace} s",
           target_type="endpoint", target_ids=[endpoint.id], after={"grace_seconds": grace,
                                                                     "secrets_signing": 1 + len(retired)})
    db.session.commit()
    return endpoint, secret
