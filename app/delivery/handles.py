"""Search handles: the short strings staff find a message by, taken from it once, when it is created.

A message's reference, tags, idempotency key and the payload fields named in SEARCH_PAYLOAD_PATHS
(dotted JSON paths such as ``order.id`` or ``data.qrCode``) become rows of message_handles, lower-cased,
so a case-insensitive prefix search is one indexed range scan at any table size. Each value is also
stored in the forms people type: without a leading "#" (``#1005`` -> ``1005``) and, for a qualified id,
its last part (``gid://shopify/Order/5123`` -> ``5123``, ``shopify:5123`` -> ``5123``).
"""

import re

from flask import current_app

#: Longest handle kept (the column's size); longer values are cut, which a prefix search still finds.
MAX_LENGTH = 200
#: The last part of a qualified id: after the final "/" or ":".
_LAST_PART = re.compile(r"[/:]([^/:]+)$")


def normalise(term):
    """Return a typed search term as handles are stored: trimmed, lower-cased, without a leading "#"."""
    term = (term or "").strip().lower()
    return term[1:].strip() if term.startswith("#") and len(term) > 1 else term


def variants(value):
    """Return the handles one value is found by (a set of lower-cased strings)."""
    if value is None or isinstance(value, (dict, list, bool)):
        return set()
    text = str(value).strip().lower()[:MAX_LENGTH]
    if not text:
        return set()
    found = {text, normalise(text)}
    if match := _LAST_PART.search(text):
        found.add(match.group(1))
    return {v for v in found if v}


def payload_values(payload, paths):
    """Return the values at each dotted path of a JSON object (missing paths are skipped)."""
    values = []
    for path in paths:
        node = payload
        for key in path.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            values.append(node)
    return values


def handles_for(message):
    """Return every handle of a message (anything with reference, idempotency_key, tags and a payload dict)."""
    values = [message.reference, message.idempotency_key, *message.tags,
              *payload_values(message.payload, current_app.config["SEARCH_PAYLOAD_PATHS"])]
    return set().union(*(variants(v) for v in values))


def handle_rows(messages):
    """Rows of message_handles for messages being written: [{"message_id", "handle"}], for one multi-row INSERT."""
    return [{"message_id": m.id, "handle": h} for m in messages for h in sorted(handles_for(m))]
