"""Rotate an endpoint's secret: a new secret signs at once; the old one keeps signing beside it until its grace
ends (the rule is app.credentials.rotation's, shared with inbound sources)."""

from flask_babel import lazy_gettext as _l

from app.audit import Action, record
from app.credentials import crypto
from app.credentials.rotation import check_grace, retire_current
from app.credentials.signatures import generate_secret
from app.delivery.endpoints.service import get_endpoint
from app.extensions import db
from app.models import utcnow


def rotate_secret(endpoint_id, *, actor, grace_seconds=None):
    """Replace the endpoint's secret; return (endpoint, new secret), the only time the secret is shown.

    The old secret keeps signing beside the new one for grace_seconds (default 24 h, at most 7 days).
    """
    grace = check_grace(grace_seconds)
    endpoint = get_endpoint(endpoint_id)
    now = utcnow()
    retired = retire_current(endpoint, grace, now)
    secret = generate_secret()
    endpoint.secret_encrypted, endpoint.secret_created_at, endpoint.retired_secrets = (
        crypto.encrypt(secret), now, retired)
    record(actor, Action.ENDPOINT_ROTATE_SECRET,
           _l("rotated the secret of %(url)s; the old one signs for %(grace)s s", url=endpoint.url, grace=grace),
           target_type="endpoint", target_ids=[endpoint.id], after={"grace_seconds": grace,
                                                                     "secrets_signing": 1 + len(retired)})
    db.session.commit()
    return endpoint, secret
