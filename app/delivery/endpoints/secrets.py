"""Endpoint secrets and custom header values at rest: Fernet (AES-128-CBC + HMAC-SHA256) under keys from the
environment."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from app.errors import SecretUnavailable


def _cipher():
    keys = [k.strip() for k in (current_app.config["SECRETS_ENCRYPTION_KEY"] or "").split(",") if k.strip()]
    if not keys:
        raise SecretUnavailable("SECRETS_ENCRYPTION_KEY is not set")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise SecretUnavailable("SECRETS_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes)") from None


def encrypt(secret):
    """Encrypt a secret with the newest key."""
    return _cipher().encrypt(secret.encode()).decode()


def decrypt(token):
    """Decrypt a stored secret with any configured key."""
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnavailable("the endpoint secret cannot be decrypted with SECRETS_ENCRYPTION_KEY") from None


def encrypt_headers(headers):
    """Encrypt each custom header value; the names stay readable: {name: token}."""
    return {name: encrypt(value) for name, value in (headers or {}).items()}


def decrypt_headers(stored):
    """Decrypt the custom headers stored by encrypt_headers: {name: value}."""
    return {name: decrypt(token) for name, token in (stored or {}).items()}


def mask(secret):
    """Show enough of a secret to recognise it and nothing to use: whsec_••••a1b2."""
    prefix = "whsec_" if secret.startswith("whsec_") else ""
    return f"{prefix}••••{secret[-4:]}"
