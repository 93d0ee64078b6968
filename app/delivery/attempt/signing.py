"""Pure signing: payload + secrets + timestamp -> headers, for each supported scheme."""

import base64

from app.credentials.signatures import hex_signature, standard_digest
from app.models import SigningScheme

#: Header carrying the shared secret verbatim (scheme "shared-secret").
SHARED_SECRET_HEADER = "X-Webhook-Secret"
#: Header carrying a hex HMAC-SHA256 of the body (scheme "hmac-sha256").
HMAC_HEADER = "X-Webhook-Signature"


def standard_signature(secret, msg_id, timestamp, body):
    """Return "v1,<base64 HMAC-SHA256 of id.timestamp.body>" for one secret."""
    return "v1," + base64.b64encode(standard_digest(secret, msg_id, timestamp, body)).decode()


def sign(scheme, secrets, msg_id, timestamp, body):
    """Return the signing headers for a body.

    secrets lists the valid secrets, newest first; Standard Webhooks signs with each of them
    (space-separated) so receivers verifying with an old or a new secret both pass.
    """
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if scheme is SigningScheme.STANDARD:
        headers["webhook-signature"] = " ".join(standard_signature(s, msg_id, timestamp, body) for s in secrets)
    elif scheme is SigningScheme.SHARED_SECRET:
        headers[SHARED_SECRET_HEADER] = secrets[0]
    elif scheme is SigningScheme.HMAC_SHA256:
        headers[HMAC_HEADER] = ",".join(hex_signature(s, body) for s in secrets)
    else:
        raise ValueError(f"unknown signing scheme {scheme!r}")
    return headers
