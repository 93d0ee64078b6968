"""HMAC signatures (SHA-256 unless a generic source names another), computed once for both pipelines: outbound
signs its requests with them (app.delivery.attempt.signing), inbound checks the providers' with them
(app.inbound.providers)."""

import base64
import hashlib
import hmac
import secrets as _random


def generate_secret():
    """Return a new Standard Webhooks secret: whsec_ + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(_random.token_bytes(32)).decode()


def standard_key(secret):
    """Return the HMAC key of a whsec_ secret, decoded as the standardwebhooks library does (padding added)."""
    return base64.b64decode(secret.removeprefix("whsec_") + "==")


def standard_digest(secret, msg_id, timestamp, body):
    """Return the raw Standard Webhooks HMAC-SHA256 of "<id>.<timestamp>.<body>"."""
    return hmac.new(standard_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


#: The hash functions a configured (generic) inbound source may name.
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def text_keyed_digest(secret, message, algorithm="sha256"):
    """Return the raw HMAC of message keyed by the secret's text (Shopify, Stripe, GitHub, hmac-sha256: SHA-256;
    a generic inbound source: the algorithm it names, of ALGORITHMS)."""
    return hmac.new(secret.encode(), message, ALGORITHMS[algorithm]).digest()


def hex_signature(secret, body):
    """Return "sha256=<hex HMAC-SHA256 of the body>", keyed by the secret's text (GitHub's and ours)."""
    return "sha256=" + text_keyed_digest(secret, body).hex()
