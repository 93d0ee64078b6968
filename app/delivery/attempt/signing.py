"""Pure signing: payload + secrets + timestamp -> headers, for each supported scheme."""

import base64
import hashlib
import hmac
import secrets as _random

from app.models import SigningScheme

#: Header carrying the shared secret verbatim (scheme "shared-secret").
SHARED_SECRET_HEADER = "X-Webhook-Secret"
#: Header carrying a hex HMAC-SHA256 of the body (scheme "hmac-sha256").
HMAC_HEADER = "X-Webhook-Signature"


def generate_secret():
    """Return a new Standard Webhooks secret: whsec_ + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(_random.token_bytes(32)).decode()


def _standard_key(secret):
    return base64.b64decode(secret.removeprefix("whsec_"))


def standard_signature(secret, msg_id, timestamp, body):
    """Return "v1,<base64 HMAC-SHA256 of id.timestamp.body>" for one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def hex_signature(secret, body):
    """Return "sha256=<hex HMAC-SHA256 of the body>", keyed by the secret's text."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


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
