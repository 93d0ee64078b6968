"""Make whatever a receiver sends storable in any database, faithfully and readably.

PostgreSQL refuses NUL characters in text columns and a UTF-8 database cannot hold lone surrogates;
a response body may be binary, invalid UTF-8 or huge. Text is kept as text when it is clean UTF-8
without NUL; anything else is kept byte for byte as base64, capped, so nothing a receiver sends can
stop an attempt from being recorded and nothing is silently altered.
"""

import base64
from dataclasses import dataclass

#: How a stored body is encoded: None is plain text; BASE64 marks the raw bytes, base64-encoded.
BASE64 = "base64"


@dataclass(frozen=True)
class StoredBody:
    """A response body as stored: text (or base64 of the bytes), its encoding, and whether it was cut."""

    text: str | None
    encoding: str | None = None
    truncated: bool = False


def text(value, limit=None):
    """Return value as text any database stores: NUL and unencodable characters escaped, at most limit chars."""
    if value is None:
        return None
    value = str(value)
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value[:limit] if limit is not None else value


def body(data, limit):
    """Return a StoredBody for the first limit bytes of a response body (data may hold one byte more)."""
    if data is None:
        return StoredBody(None)
    data = bytes(data)
    truncated = len(data) > limit
    data = data[:limit]
    if b"\x00" not in data:
        try:
            return StoredBody(data.decode("utf-8"), truncated=truncated)
        except UnicodeDecodeError as exc:
            # A body cut at the limit may end inside a multi-byte character: that is still text.
            if truncated and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
                return StoredBody(data[:exc.start].decode("utf-8"), truncated=True)
    return StoredBody(base64.b64encode(data).decode("ascii"), BASE64, truncated)


def raw(stored_text, encoding):
    """Return the bytes a stored body stands for (the inverse of body())."""
    if stored_text is None:
        return b""
    return base64.b64decode(stored_text) if encoding == BASE64 else stored_text.encode("utf-8")
