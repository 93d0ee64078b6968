"""What a failed processing keeps for staff: the error and the handler's traceback, bounded, with secrets masked."""

import traceback

from flask import current_app

from app.credentials.masking import SECRET_MASK
from app.credentials.rotation import live_secrets
from app.errors import HookyardError
from app.extensions import db
from app.models import InboundSource

#: Longest error text kept on an event and its attempt.
ERROR_LIMIT = 2000
#: Most bytes (UTF-8) of a traceback kept on an attempt: its end, where the handler's frame and the error are.
TRACEBACK_BYTES = 8192
#: The app's own secrets, masked too should a handler's error quote them.
APP_SECRETS = ("SECRET_KEY", "SECRETS_ENCRYPTION_KEY")


def _secrets(source_id):
    """The strings to mask: the source's verification secrets and the app's; none that is too short to matter."""
    found = [current_app.config.get(name) for name in APP_SECRETS]
    try:
        source = db.session.get(InboundSource, source_id)
        found += live_secrets(source) if source else []
    except Exception:  # noqa: BLE001  an unreadable secret cannot be in the text either
        pass
    finally:
        db.session.rollback()
    return sorted({s for s in found if isinstance(s, str) and len(s) >= 4}, key=len, reverse=True)


def _masked(text, secrets):
    for secret in secrets:
        text = text.replace(secret, SECRET_MASK)
    return text


def bounded(text, limit=TRACEBACK_BYTES):
    """Return text's last limit bytes of UTF-8, saying how much was cut when it was longer."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    note = f"[first {len(data) - limit} bytes cut]\n"
    return note + data[-(limit - len(note)):].decode("utf-8", "ignore")


def describe_failure(exc, source_id):
    """Return (error, traceback or None) of a failed processing, as staff read them, secrets masked.

    A HookyardError is a deliberate, final refusal: its message says it all, so it keeps no traceback.
    """
    secrets = _secrets(source_id)
    error = exc.message if isinstance(exc, HookyardError) else f"{type(exc).__name__}: {exc}"
    error = _masked(error[:ERROR_LIMIT * 2], secrets)[:ERROR_LIMIT]
    if isinstance(exc, HookyardError):
        return error, None
    return error, bounded(_masked("".join(traceback.format_exception(exc)), secrets))
