"""A source's verification secrets: stored and rotated as endpoint secrets are (encrypted at rest, a retired one
valid until its grace period ends), so the rule and the decryption cache are those of app.delivery.endpoints."""

from app.delivery.endpoints.rotation import signing_secrets


def verification_secrets(source, now=None):
    """Return the plaintext secrets a request from source may be signed with: the current one, then each retired
    one not yet expired. source is anything with secret_encrypted and retired_secrets (a row or a model)."""
    return signing_secrets(source, now)
