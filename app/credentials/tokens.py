"""Bearer tokens (API keys, staff sessions, portal links) are stored only as a digest, looked up by it."""

import hashlib


def token_digest(token):
    """Return the stored form of a bearer token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()
