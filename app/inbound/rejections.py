"""Rejected inbound requests: every one counted, a bounded sample kept (the first bytes, masked headers), so a
flood of forged requests cannot fill the database."""

from sqlalchemy import bindparam, delete, func, insert, select

from app.extensions import db
from app.inbound import counts
from app.inbound.headers import harmless, masked
from app.models import utcnow
from app.models.inbound import InboundRejection

#: Samples kept per source and hour at most; later rejections in that hour are only counted.
SAMPLES_PER_HOUR = 20
#: Samples kept per source, the newest.
SAMPLES_KEPT = 200
#: Bytes of a rejected body kept in its sample.
SAMPLE_BYTES = 512
#: Where requests naming no source are counted and sampled (no source can have this name).
UNKNOWN_SOURCE = "(unknown)"

_rejections = InboundRejection.__table__
_INSERT = insert(_rejections)
_THIS_HOUR = (select(func.count()).select_from(_rejections)
              .where(_rejections.c.source_name == bindparam("name"), _rejections.c.rejected_at >= bindparam("hour")))
_OLDEST_KEPT = (select(_rejections.c.id).where(_rejections.c.source_name == bindparam("name"))
                .order_by(_rejections.c.id.desc()).offset(SAMPLES_KEPT - 1).limit(1))
_TRIM = delete(_rejections).where(_rejections.c.source_name == bindparam("name"),
                                  _rejections.c.id < bindparam("oldest_kept"))


def record_rejection(source_name, reason, detail, headers, body_sample, body_bytes, remote_addr, *, also_masked=()):
    """Count one rejected request and keep a sample of it while the source's hourly sample has room; commit.

    also_masked names the source's own credential headers (a Zoho token header); a request to no known source
    keeps only harmless headers, as its credential header cannot be known."""
    session, now = db.session, utcnow()
    connection = session.connection()
    if counts.count(session, source_name, reason, now) <= SAMPLES_PER_HOUR and _room(connection, source_name, now):
        connection.execute(_INSERT, {
            "source_name": source_name, "reason": reason, "detail": (detail or "")[:500] or None,
            "rejected_at": now, "remote_addr": (remote_addr or "")[:64] or None,
            "headers": stored_headers(source_name, headers or {}, also_masked), "body_sample": sample(body_sample),
            "body_bytes": body_bytes})
        trim(connection, source_name)
    session.commit()


def stored_headers(source_name, headers, also_masked=()):
    """The headers of a sample as stored and shown: masked, or only the harmless ones for the unknown bucket."""
    return harmless(headers) if source_name == UNKNOWN_SOURCE else masked(headers, also_masked)


def _room(connection, source_name, now):
    """Whether the source's sample for this hour has room for one more."""
    taken = connection.execute(_THIS_HOUR, {"name": source_name, "hour": counts.hour_of(now)}).scalar_one()
    return taken < SAMPLES_PER_HOUR


def sample(body):
    """Return the first SAMPLE_BYTES of a body as storable text (invalid UTF-8 and NUL replaced), or None."""
    if not body:
        return None
    return body[:SAMPLE_BYTES].decode("utf-8", "replace").replace("\x00", "\ufffd")


def trim(connection, source_name):
    """Delete the source's samples older than its newest SAMPLES_KEPT."""
    oldest_kept = connection.execute(_OLDEST_KEPT, {"name": source_name}).scalar()
    if oldest_kept is not None:
        connection.execute(_TRIM, {"name": source_name, "oldest_kept": oldest_kept})
