"""Receive one inbound webhook: find its source, verify it, store it once, hand it to the workers after commit.

On SQLite (or in a transaction begun elsewhere) it is a few prebuilt statements on one connection: the source by
name, the event INSERTed with ON CONFLICT DO NOTHING (the source has it: its provider event id, or for Shopify and
GitHub its body within the replay window, app.inbound.replays), its search handles, the hour's
counter, COMMIT. A repeated event (a provider's retry, or 200 identical requests at once) writes no second row:
the INSERT finds the first one and one UPDATE counts the duplicate on it. Processing never happens here
(app.inbound.processing does it in a worker).

On PostgreSQL a request usually makes one round trip: one statement, outside an explicit transaction (a single
statement is atomic on its own), inserts the event, its handles and the hour's counter, or counts the duplicate
(_WRITE_POSTGRES). The source it was verified with is the one this process read last (_known); the statement
writes nothing unless the source's row still has the same fingerprint (name, provider, secrets, tolerance,
options, state), so a rotated, paused, disabled or deleted source takes effect at once: the source is read again
and the request verified again. A request refused with the remembered source is verified again with the row read
afresh before it is refused. Round trips were most of a request's CPU: it used to make seven (BEGIN, the source,
the event, its handles in a pipeline, the counter, COMMIT).
"""

import functools
import json
import logging
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, bindparam, insert, literal_column, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.credentials.rotation import live_secrets
from app.errors import InboundRejected
from app.extensions import db
from app.inbound import counts, providers, replays
from app.inbound.headers import masked
from app.inbound.providers.base import json_object
from app.inbound.rejections import UNKNOWN_SOURCE, record_rejection
from app.logs import log_inbound_event
from app.models import utcnow
from app.models.inbound import InboundEvent, InboundHandle, InboundSource, InboundStatus, SourceState
from app.models.types import new_id
from app.outbox import process_inbound_after_commit
from app.search import payload_values, variants

log = logging.getLogger(__name__)

_sources, _events = InboundSource.__table__, InboundEvent.__table__
# Statements are built once: building them per request cost as much as running them.
_SOURCE = select(_sources.c.id, _sources.c.name, _sources.c.provider, _sources.c.secret_encrypted,
                 _sources.c.retired_secrets, _sources.c.tolerance_seconds, _sources.c.options,
                 _sources.c.state).where(_sources.c.name == bindparam("name"))
_first = _events.alias("first")
# The first copy of an event: the one with its provider event id, else the one with its body within the replay
# window (app.inbound.replays).
_FIRST_COPY = (select(_first.c.id).where(
    _first.c.source_id == bindparam("b_source_id"),
    or_(_first.c.provider_event_id == bindparam("b_provider_event_id"),
        and_(_first.c.body_digest == bindparam("b_body_digest"), _first.c.received_at >= bindparam("b_since"))))
    .order_by((_first.c.provider_event_id == bindparam("b_provider_event_id")).desc()).limit(1))
_DUPLICATE = (update(_events).where(_events.c.id == _FIRST_COPY.scalar_subquery())
              .values(duplicate_count=_events.c.duplicate_count + 1, last_duplicate_at=bindparam("b_now"))
              .returning(_events.c.id, _events.c.status))
_INSERT_HANDLES = insert(InboundHandle.__table__)

# PostgreSQL: what a request's verification depends on, as one value the write statement compares.
_FINGERPRINT = ("md5(concat_ws('|', {t}.name, {t}.provider, {t}.secret_encrypted, CAST({t}.retired_secrets AS text), "
                "CAST({t}.tolerance_seconds AS text), CAST({t}.options AS text), {t}.state))")
_SOURCE_POSTGRES = _SOURCE.add_columns(literal_column(_FINGERPRINT.format(t="inbound_sources")).label("fingerprint"))
# PostgreSQL: the event, its handles and the hour's counter in one statement; when the event exists already (its
# provider event id, or its body within the replay window: either unique index stops the INSERT), its first copy's
# duplicate count instead; nothing at all when the source changed since it was read (current is false). Every
# part runs on the statement's one snapshot: a first copy committed by another request after that snapshot was
# taken makes the INSERT do nothing and is invisible to the UPDATE, so neither id comes back and _DUPLICATE, a
# statement of its own, counts it.
_WRITE_POSTGRES = text(f"""
WITH s AS (
  SELECT s.id FROM inbound_sources s WHERE s.id = :source_id AND {_FINGERPRINT.format(t="s")} = :fingerprint
), e AS (
  INSERT INTO inbound_events (id, source_id, provider_event_id, provider_event_ref, topic, received_at, body,
                              body_bytes, content_type, headers, status, attempts, duplicate_count, next_attempt_at,
                              body_digest)
  SELECT :id, s.id, :provider_event_id, :provider_event_ref, :topic, :now, :body, :body_bytes, :content_type,
         CAST(:headers AS json), :received, 0, 0, CAST(:next_attempt_at AS timestamptz), CAST(:body_digest AS varchar)
  FROM s
  ON CONFLICT DO NOTHING
  RETURNING id
), h AS (
  INSERT INTO inbound_handles (event_id, handle)
  SELECT e.id, x.handle FROM e, unnest(CAST(:handles AS varchar[])) AS x(handle)
), d AS (
  UPDATE inbound_events SET duplicate_count = duplicate_count + 1, last_duplicate_at = :now
  WHERE id = (SELECT f.id FROM inbound_events f WHERE f.source_id = :source_id
              AND (f.provider_event_id = :provider_event_id
                   OR (f.body_digest = CAST(:body_digest AS varchar) AND f.received_at >= CAST(:since AS timestamptz)))
              ORDER BY f.provider_event_id = :provider_event_id DESC LIMIT 1)
    AND EXISTS (SELECT FROM s) AND NOT EXISTS (SELECT FROM e)
  RETURNING id, status
), c AS (
  INSERT INTO inbound_counts (source_name, hour_start, kind, count)
  SELECT :source_name, :hour, CASE WHEN EXISTS (SELECT FROM e) THEN 'received' ELSE 'duplicate' END, 1 FROM s
  ON CONFLICT (source_name, hour_start, kind) DO UPDATE SET count = inbound_counts.count + 1
)
SELECT EXISTS (SELECT FROM s) AS current, (SELECT id FROM e) AS inserted, (SELECT id FROM d) AS original,
       (SELECT status FROM d) AS status""")
#: PostgreSQL: {source name: its row as this process last read it (with its fingerprint)}; the write checks it.
_known = {}
#: At most this many sources are remembered (all are forgotten when more would be).
KNOWN_SOURCES_MAX = 1000

#: The answer to a request for a source that does not exist or is disabled (the same, so names are not probed).
NOT_FOUND = {"error": "no source receives webhooks at this address", "reason": "unknown_source"}


@dataclass(frozen=True)
class Answer:
    """What the receiving URL answers: an HTTP status and a JSON body."""

    status: int
    json: dict


#: The answer when the event's first copy changed while it was stored (the sender retries).
CONFLICT = Answer(503, {"error": "the event changed while it was stored; send it again", "reason": "conflict"})


@functools.cache
def _insert_event(dialect_name):
    """INSERT an event unless its source already has one with this provider event id or body digest."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(_events).on_conflict_do_nothing().returning(_events.c.id)


def receive(source_name, headers, body, remote_addr):
    """Verify and record one request to /inbound/<source_name>; commit; return the Answer.

    200 {"status": "accepted" | "duplicate", "id"} for an authentic request; 404 for an unknown or disabled
    source; 401 or 400 {"error", "reason"} for a refused one (counted and sampled, never stored as an event).
    """
    started = time.perf_counter()
    session = db.session
    # IMPORTANT: autocommit only when this request's session has not begun a transaction: one begun elsewhere
    # would silently stop being one.
    if session.get_bind().dialect.name == "postgresql" and not session().in_transaction():
        return _receive_postgres(session, source_name, headers, body, remote_addr, started)
    source = session.connection().execute(_SOURCE, {"name": source_name}).first()
    now = utcnow()
    verified = _verify(session, source, source_name, headers, body, now, remote_addr)
    if isinstance(verified, Answer):
        return verified
    return _store(session, source, verified, headers, body, now, started)


def _verify(session, source, source_name, headers, body, now, remote_addr):
    """Return what the request verified says about itself, or the Answer refusing it (recorded)."""
    if source is None or source.state is SourceState.DISABLED:
        session.rollback()  # IMPORTANT: on SQLite the look-up's transaction holds the write lock
        reason = "unknown_source" if source is None else "disabled"
        _reject(source.name if source else UNKNOWN_SOURCE, reason, f"/inbound/{source_name[:100]}", headers, body,
                len(body), remote_addr, also_masked=providers.masked_header_names(source) if source else ())
        return Answer(404, NOT_FOUND)
    try:
        return providers.verify(source, live_secrets(source, now), headers, body, now)
    except InboundRejected as exc:
        session.rollback()
        _reject(source.name, exc.reason, exc.message, headers, body, len(body), remote_addr,
                also_masked=providers.masked_header_names(source))
        return Answer(exc.status, {"error": exc.message, "reason": exc.reason})


def _receive_postgres(session, source_name, headers, body, remote_addr, started):
    """receive() on PostgreSQL: verify with the source as last read, write in one autocommitted statement (see the
    module docstring); read the source again whenever it changed."""
    connection = _autocommit(session)
    source = _known.get(source_name)
    for _ in range(3):  # a source changed between its read and the write is read again; three times is a storm
        now = utcnow()
        verified = None
        if source is not None:
            try:
                verified = providers.verify(source, live_secrets(source, now), headers, body, now)
            except InboundRejected:
                pass  # perhaps signed with a secret this process has not read yet: refused only after a fresh read
        if verified is None:
            source = connection.execute(_SOURCE_POSTGRES, {"name": source_name}).first()
            verified = _verify(session, source, source_name, headers, body, now, remote_addr)
            if isinstance(verified, Answer):
                _known.pop(source_name, None)
                return verified
            if len(_known) >= KNOWN_SOURCES_MAX:
                _known.clear()
            _known[source_name] = source
        answer = _store_postgres(session, connection, source, verified, headers, body, now, started)
        if answer is not None:
            return answer
        _known.pop(source_name, None)
        source = None
    session.rollback()
    return Answer(503, {"error": "the source changed while the event was stored; send it again", "reason": "conflict"})


def _autocommit(session):
    """The session's connection, each statement committed on its own (a commit releases it: ask again after)."""
    return session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _store_postgres(session, connection, source, verified, headers, body, now, started, again=False):
    """_store in one autocommitted statement (see _WRITE_POSTGRES); None when the source changed since it was read
    (nothing was written)."""
    held = source.state is SourceState.PAUSED
    event_id, digest = new_id("in"), replays.body_digest(source.provider, body, source.options)
    row = connection.execute(_WRITE_POSTGRES, {
        "source_id": source.id, "fingerprint": source.fingerprint, "id": event_id,
        "provider_event_id": verified.provider_event_id, "provider_event_ref": verified.provider_event_ref,
        "topic": verified.topic, "now": now, "body": body, "body_bytes": len(body),
        "content_type": (headers.get("Content-Type") or "")[:200] or None,
        "headers": json.dumps(masked(headers, providers.masked_header_names(source))),
        "received": InboundStatus.RECEIVED.value, "next_attempt_at": None if held else now,
        "handles": sorted(_handles(source.provider, body, verified)), "source_name": source.name,
        "hour": counts.hour_of(now), "body_digest": digest, "since": replays.since(now)}).one()
    if not row.current:
        return None
    if row.inserted is None:
        # Committed by another request after this statement's snapshot: counted apart. Or the same body received
        # before the replay window: forgotten, and this copy is stored as a new event (the hour's counter then
        # also holds the duplicate the statement counted).
        if row.original is None:
            answer = _duplicate(session, source, verified, digest, now, started, counted=True)
            if answer is None and not again:
                return _store_postgres(session, _autocommit(session), source, verified, headers, body, now, started,
                                       True)
            return answer or CONFLICT
        session.commit()
        return _duplicated(source, verified, row.original, InboundStatus(row.status), started)
    if not held:
        process_inbound_after_commit(session, event_id, "received")
    session.commit()  # nothing left to commit; the workers hear of the event after it
    log_inbound_event(event_id=event_id, source_id=source.id, provider=source.provider.value, topic=verified.topic,
                      status="received", duration_ms=_ms(started))
    return Answer(200, {"status": "accepted", "id": event_id})


def _store(session, source, verified, headers, body, now, started, again=False):
    """Write the event (or count the duplicate), commit, and answer."""
    connection = session.connection()
    held = source.state is SourceState.PAUSED  # stored, not processed until the source is resumed
    event_id, digest = new_id("in"), replays.body_digest(source.provider, body, source.options)
    row = {"id": event_id, "source_id": source.id, "provider_event_id": verified.provider_event_id,
           "provider_event_ref": verified.provider_event_ref, "topic": verified.topic, "received_at": now,
           "body": body, "body_bytes": len(body), "content_type": (headers.get("Content-Type") or "")[:200] or None,
           "headers": masked(headers, providers.masked_header_names(source)), "status": InboundStatus.RECEIVED,
           "attempts": 0, "duplicate_count": 0, "next_attempt_at": None if held else now, "body_digest": digest}
    if connection.execute(_insert_event(connection.dialect.name), row).scalar() is None:
        answer = _duplicate(session, source, verified, digest, now, started)
        if answer is None and not again:  # the same body, received before the replay window: a new event
            return _store(session, source, verified, headers, body, now, started, True)
        return answer or CONFLICT
    handles = _handles(source.provider, body, verified)
    if handles:
        connection.execute(_INSERT_HANDLES, [{"event_id": event_id, "handle": h} for h in sorted(handles)])
    counts.count(session, source.name, "received", now)
    if not held:
        process_inbound_after_commit(session, event_id, "received")
    session.commit()
    log_inbound_event(event_id=event_id, source_id=source.id, provider=source.provider.value, topic=verified.topic,
                      status="received", duration_ms=_ms(started))
    return Answer(200, {"status": "accepted", "id": event_id})


def _duplicate(session, source, verified, digest, now, started, counted=False):
    """Count a repeated event on its first copy (and in the hour's counter unless counted); nothing is processed
    again. None when the only copy was the same body received before the replay window: it was forgotten, and
    this one may be stored."""
    connection = session.connection()
    original = connection.execute(_DUPLICATE, {
        "b_source_id": source.id, "b_provider_event_id": verified.provider_event_id, "b_body_digest": digest,
        "b_since": replays.since(now), "b_now": now}).first()
    if original is None:
        if replays.forget_expired(connection, source.id, digest, now):
            session.commit()
            return None
        session.rollback()  # the first copy was deleted in between (its source was deleted): the sender retries
        return CONFLICT
    if not counted:
        counts.count(session, source.name, "duplicate", now)
    session.commit()
    return _duplicated(source, verified, original.id, original.status, started)


def _duplicated(source, verified, original_id, status, started):
    metrics.observe_inbound("duplicate")
    log_inbound_event(event_id=original_id, source_id=source.id, provider=source.provider.value, topic=verified.topic,
                      status=status.value, duration_ms=_ms(started), duplicate=True)
    return Answer(200, {"status": "duplicate", "id": original_id})


def _handles(provider, body, verified):
    """The search handles of an event: the configured payload fields, the provider's usual ids, and what its headers
    name (a Shopify shop domain)."""
    found = set().union(*(variants(value) for value in verified.handles))
    payload = json_object(body)
    if payload is None:
        return found
    paths = [*current_app.config["SEARCH_PAYLOAD_PATHS"], *providers.handle_paths(provider)]
    return found.union(*(variants(value) for value in payload_values(payload, paths)))


def _reject(source_name, reason, detail, headers, body, body_bytes, remote_addr, also_masked=()):
    """Record a refused request; a failure to record it never changes the answer."""
    try:
        record_rejection(source_name, reason, detail, headers, body, body_bytes, remote_addr, also_masked=also_masked)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record a rejected inbound request to %s (%s)", source_name, reason)


def reject_too_large(source_name, headers, body_bytes, limit, remote_addr):
    """Record a request refused for its size (unread) and return the 413 Answer."""
    source = db.session.connection().execute(_SOURCE, {"name": source_name}).first()
    db.session.rollback()
    detail = f"{body_bytes if body_bytes is not None else 'more than ' + str(limit)} bytes; the limit is {limit}"
    _reject(source.name if source else UNKNOWN_SOURCE, "too_large", detail, headers, b"", body_bytes, remote_addr,
            also_masked=providers.masked_header_names(source) if source else ())
    return Answer(413, {"error": f"the body is larger than {limit} bytes", "reason": "too_large"})


def _ms(started):
    return int((time.perf_counter() - started) * 1000)
