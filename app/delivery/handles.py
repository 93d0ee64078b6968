"""Search handles: the short strings staff find a message by, taken from it once, when it is created.

A message's reference, tags, idempotency key, ordering key and the payload fields named in SEARCH_PAYLOAD_PATHS
(dotted JSON paths such as ``order.id`` or ``data.qrCode``) become rows of message_handles, in the forms
app.search stores and finds them.
"""

from flask import current_app

from app.search import payload_values, variants


def handles_for(message):
    """Return every handle of a message (anything with reference, idempotency_key, tags and a payload dict; its
    ordering_key too, if it has one)."""
    values = [message.reference, message.idempotency_key, getattr(message, "ordering_key", None), *message.tags,
              *payload_values(message.payload, current_app.config["SEARCH_PAYLOAD_PATHS"])]
    return set().union(*(variants(v) for v in values))


def handle_rows(messages):
    """Rows of message_handles for messages being written: [{"message_id", "handle"}], for one multi-row INSERT."""
    return [{"message_id": m.id, "handle": h} for m in messages for h in sorted(handles_for(m))]
