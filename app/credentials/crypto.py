"""Secrets at rest (endpoint and inbound source secrets, endpoint custom header values): Fernet (AES-128-CBC +
HMAC-SHA256) under keys from the environment."""

import base64
import functools
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from app.errors import SecretUnavailable

#: 32 bytes written as 64 hex digits, as Heroku's app.json "generator": "secret" makes them.
HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")


def fernet_key(raw):
    """Return a Fernet key from raw: a Fernet key (32 bytes in base64) or 32 bytes as 64 hex digits."""
    return base64.urlsafe_b64encode(bytes.fromhex(raw)) if HEX_KEY.match(raw) else raw


def _cipher():
    return _cipher_for(current_app.config["SECRETS_ENCRYPTION_KEY"] or "")


@functools.lru_cache(maxsize=8)
def _cipher_for(configured):
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    if not keys:
        raise SecretUnavailable("SECRETS_ENCRYPTION_KEY is not set")
    try:
        return MultiFernet([Fernet(fernet_key(key)) for key in keys])
    except ValueError:
        raise SecretUnavailable("SECRETS_ENCRYPTION_KEY must be 32 random bytes in base64 (a Fernet key) or "
                                "64 hex digits") from None


def encrypt(secret):
    """Encrypt a secret with the newest key."""
    return _cipher().encrypt(secret.encode()).decode()


def decrypt(token):
    """Decrypt a stored secret with any configured key."""
    return _decrypt(current_app.config["SECRETS_ENCRYPTION_KEY"] or "", token)


@functools.lru_cache(maxsize=4096)
def _decrypt(configured, token):
    # Cached: every webhook is signed with its endpoint's secrets, and a decryption costs more than the signing.
    try:
        return _cipher_for(configured).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnavailable("the endpoint secret cannot be decrypted with SECRETS_ENCRYPTION_KEY") from None


def encrypt_headers(headers):
    """Encrypt each custom header value; the names stay readable: {name: token}."""
    return {name: encrypt(value) for name, value in (headers or {}).items()}


def decrypt_headers(stored):
    """Decrypt the custom headers stored by encrypt_headers: {name: value}."""
    return {name: decrypt(token) for name, token in (stored or {}).items()}

