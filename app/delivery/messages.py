"""Create messages and fan them out to deliveries, inside the caller's transaction (a transactional outbox).

One message or five hundred cost the same few statements: the receiving endpoints are read once, and
messages, tags and deliveries are each written with one multi-row INSERT. Nothing is sent until the
caller commits (app.outbox); a rollback sends nothing. An idempotency key already used returns
the first message and writes nothing; used for a different message, it is refused (409), as Stripe does.
"""

import functools
import json
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from app.delivery import matching, scheduling
from app.delivery.handles import handle_rows
from app.delivery.message_rules import NewMessage, check_message
from app.errors import HookyardError, IllegalTransition, InvalidInput, NotFound
from app.extensions import db
from app.models import Delivery, DeliveryStatus, Endpoint, EndpointState, Message, MessageHandle, MessageTag, utcnow
from app.models.types import new_id
from app.outbox import enqueue_after_commit

#: Endpoints in these states receive new deliveries; a paused endpoint holds them until resumed.
RECEIVING_STATES = (EndpointState.ENABLED, EndpointState.PAUSED)

_messages, _tags, _deliveries, _endpoints = (Message.__table__, MessageTag.__table__, Delivery.__table__,
                                             Endpoint.__table__)
# Statements are built once: building them per call cost as much as running them.
_RECEIVING = (select(_endpoints.c.id, _endpoints.c.event_types)
              .where(_endpoints.c.state.in_(RECEIVING_STATES), _endpoints.c.deleted_at.is_(None))
              .order_by(_endpoints.c.created_at))
_KNOWN = select(_endpoints.c.id).where(_endpoints.c.id.in_(bindparam("ids", expanding=True)))
_INSERT_MESSAGES, _INSERT_TAGS, _INSERT_DELIVERIES = insert(_messages), insert(_tags), insert(_deliveries)
_INSERT_HANDLES = insert(MessageHandle.__table__)


@functools.cache
def _insert_keyed_messages(dialect_name):
    """INSERT messages, skipping any whose idempotency key is taken (the loser of a race writes nothing)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (dialect.insert(_messages).on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(_messages.c.id))


# PostgreSQL writes messages, tags, handles and deliveries in one statement (one round trip instead of four,
# which was most of a POST's CPU); rows of a message whose idempotency key is taken are skipped with it.
_INSERT_ALL_POSTGRES = text("""
WITH m AS (
  INSERT INTO messages (id, event_type, payload, reference, idempotency_key, created_at, deliver_at)
  SELECT * FROM unnest(CAST(:m_id AS varchar[]), CAST(:m_type AS varchar[]), CAST(:m_payload AS text[]),
                       CAST(:m_ref AS varchar[]), CAST(:m_key AS varchar[]), CAST(:m_at AS timestamptz[]),
                       CAST(:m_deliver_at AS timestamptz[]))
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id
), t AS (
  INSERT INTO message_tags (message_id, tag)
  SELECT x.message_id, x.tag FROM unnest(CAST(:t_message AS varchar[]), CAST(:t_tag AS varchar[])) AS x(message_id, tag)
  WHERE x.message_id IN (SELECT id FROM m)
), h AS (
  INSERT INTO message_handles (message_id, handle)
  SELECT x.message_id, x.handle FROM unnest(CAST(:h_message AS varchar[]), CAST(:h_handle AS varchar[]))
    AS x(message_id, handle)
  WHERE x.message_id IN (SELECT id FROM m)
), d AS (
  INSERT INTO deliveries (id, message_id, endpoint_id, event_type, status, attempt_count, scheduled_attempt_count,
                          next_attempt_at, held_reason, created_at)
  SELECT x.id, x.message_id, x.endpoint_id, x.event_type, :pending, 0, 0, x.next_at, x.held, x.at
  FROM unnest(CAST(:d_id AS varchar[]), CAST(:d_message AS varchar[]), CAST(:d_endpoint AS varchar[]),
              CAST(:d_type AS varchar[]), CAST(:d_at AS timestamptz[]), CAST(:d_next_at AS timestamptz[]),
              CAST(:d_held AS varchar[]))
    AS x(id, message_id, endpoint_id, event_type, at, next_at, held)
  WHERE x.message_id IN (SELECT id FROM m)
)
SELECT id FROM m""")


@dataclass
class SentDelivery:
    id: str
    endpoint_id: str
    status: DeliveryStatus = DeliveryStatus.PENDING


@dataclass
class SentMessage:
    """A message as written (created) or as found under its idempotency key (not created)."""

    id: str
    event_type: str
    payload: dict
    reference: str | None
    tags: list
    idempotency_key: str | None
    created_at: object
    deliveries: list = field(default_factory=list)
    created: bool = True
    deliver_at: object = None

    def schedule(self):
        """(next_attempt_at, held_reason, wake-up delay in seconds) of its new deliveries: now, or deliver_at."""
        return scheduling.first_attempt(self.created_at, self.deliver_at)


def send_message(event_type, payload, *, reference=None, tags=None, idempotency_key=None, endpoint_ids=None,
                 deliver_at=None, session=None, forwarded=False):
    """Create a message and a delivery per matching endpoint in the caller's transaction.

    Returns (message, created). Nothing is sent until the caller commits; a rollback sends nothing.
    With an idempotency key already used for the same message, returns the first one and creates nothing;
    for a different message, raises IllegalTransition. Only forwarded may use the forwarded namespace
    (app.delivery.matching). deliver_at (an aware datetime or ISO 8601 text, at most 30 days ahead) schedules
    the deliveries: they wait, held as "scheduled", until then.
    """
    new = check_message(event_type, payload, reference=reference, tags=tags, idempotency_key=idempotency_key,
                        endpoint_ids=endpoint_ids, deliver_at=deliver_at, forwarded=forwarded)
    (sent,) = send_messages([new], session=session)
    return sent, sent.created


def send_messages(items, session=None):
    """Create many messages at once in the caller's transaction; all or nothing.

    items are NewMessage (app.delivery.message_rules.check_message) or dicts of send_message's keywords.
    Returns [SentMessage] in order; raises the first item's error (its index in the message) and writes
    nothing the caller should keep: roll back on an error.
    """
    news = []
    for index, item in enumerate(items):
        try:
            news.append(item if isinstance(item, NewMessage) else check_message(**item))
        except HookyardError as exc:
            raise _numbered(exc, index, len(items)) from None
    results = write_messages(news, session=session)
    for index, result in enumerate(results):
        if isinstance(result, HookyardError):
            raise _numbered(result, index, len(results))
    return results


def _numbered(error, index, count):
    """The error, saying which message of several it is about."""
    return type(error)(f"message {index}: {error.message}" if count > 1 else error.message, field=error.field)


def write_messages(news, session=None):
    """Write checked messages; return, in order, a SentMessage or the HookyardError refusing that one message
    (unknown endpoint ids, an idempotency key used for a different message). A refused message writes nothing."""
    session = session or db.session
    connection = session.connection()
    now, results, rows, first_with_key = utcnow(), [], [], {}
    for new, target in zip(news, _targets(connection, news), strict=True):
        if isinstance(target, HookyardError) or new.idempotency_key in first_with_key:
            results.append(target if isinstance(target, HookyardError) else first_with_key[new.idempotency_key])
            continue
        sent = _new(new, target, now)
        results.append(sent)
        rows.append((new, sent))
        if new.idempotency_key:
            first_with_key[new.idempotency_key] = len(results) - 1
    written = _insert(connection, rows)
    for index, (new, result) in enumerate(zip(news, results, strict=True)):
        if isinstance(result, SentMessage) and result.id not in written:
            results[index] = _existing(connection, new)  # its key was used before, or by a concurrent producer
        elif isinstance(result, int):  # the same key earlier in this call
            first = results[result]
            results[index] = _same_or_refused(new, first) if isinstance(first, SentMessage) else first
    for result in results:
        if isinstance(result, SentMessage) and result.created:
            delay = result.schedule()[2]
            for delivery in result.deliveries:
                enqueue_after_commit(session, delivery.id, delay)
    return results


def _new(new, endpoint_ids, now):
    return SentMessage(id=new_id("msg"), event_type=new.event_type, payload=new.payload, reference=new.reference,
                       tags=list(new.tags), idempotency_key=new.idempotency_key, created_at=now,
                       deliver_at=new.deliver_at,
                       deliveries=[SentDelivery(new_id("dlv"), endpoint_id) for endpoint_id in endpoint_ids])


def _targets(connection, news):
    """For each message, the ids of the endpoints it goes to, or an InvalidInput naming unknown endpoint ids."""
    receiving = connection.execute(_RECEIVING).all()
    asked = {i for new in news for i in new.endpoint_ids or ()}
    known = set(connection.execute(_KNOWN, {"ids": list(asked)}).scalars()) if asked else set()
    targets = []
    for new in news:
        unknown = [i for i in new.endpoint_ids or () if i not in known]
        if unknown:
            targets.append(InvalidInput(f"unknown endpoint ids: {', '.join(unknown)}", field="endpoint_ids"))
            continue
        targets.append([row.id for row in receiving if matching.matches(row.event_types, new.event_type)
                        and (new.endpoint_ids is None or row.id in new.endpoint_ids)])
    return targets


def _insert(connection, rows):
    """Insert messages, tags and deliveries; return the ids of the messages written (a key taken skips one)."""
    if not rows:
        return set()
    if connection.dialect.name == "postgresql":
        return _insert_postgres(connection, rows)
    keyed = any(new.idempotency_key for new, _ in rows)
    statement = _insert_keyed_messages(connection.dialect.name) if keyed else _INSERT_MESSAGES
    values = [{"id": sent.id, "event_type": new.event_type, "payload": new.body, "reference": new.reference,
               "idempotency_key": new.idempotency_key, "created_at": sent.created_at, "deliver_at": new.deliver_at}
              for new, sent in rows]
    result = connection.execute(statement, values)
    written = set(result.scalars()) if keyed else {sent.id for _, sent in rows}
    tags = [{"message_id": sent.id, "tag": tag} for _, sent in rows if sent.id in written for tag in sent.tags]
    deliveries = [{"id": d.id, "message_id": sent.id, "endpoint_id": d.endpoint_id, "event_type": sent.event_type,
                   "status": DeliveryStatus.PENDING, "attempt_count": 0, "scheduled_attempt_count": 0,
                   "next_attempt_at": next_at, "held_reason": held, "created_at": sent.created_at}
                  for _, sent in rows if sent.id in written for next_at, held, _ in [sent.schedule()]
                  for d in sent.deliveries]
    if tags:
        connection.execute(_INSERT_TAGS, tags)
    handles = handle_rows(sent for _, sent in rows if sent.id in written)  # what the monitor's search finds
    if handles:
        connection.execute(_INSERT_HANDLES, handles)
    if deliveries:
        connection.execute(_INSERT_DELIVERIES, deliveries)
    return written


def _insert_postgres(connection, rows):
    """_insert in one statement: each table's rows as parallel arrays, unnested (the statement never changes)."""
    sents = [sent for _, sent in rows]
    handles = handle_rows(sents)
    params = {"pending": DeliveryStatus.PENDING.value,
              **_columns(("m_id", "m_type", "m_payload", "m_ref", "m_key", "m_at", "m_deliver_at"),
                         [(sent.id, new.event_type, new.body, new.reference, new.idempotency_key, sent.created_at,
                           new.deliver_at) for new, sent in rows]),
              **_columns(("t_message", "t_tag"), [(sent.id, tag) for sent in sents for tag in sent.tags]),
              **_columns(("h_message", "h_handle"), [(h["message_id"], h["handle"]) for h in handles]),
              **_columns(("d_id", "d_message", "d_endpoint", "d_type", "d_at", "d_next_at", "d_held"),
                         [(d.id, sent.id, d.endpoint_id, sent.event_type, sent.created_at, *sent.schedule()[:2])
                          for sent in sents for d in sent.deliveries])}
    return set(connection.execute(_INSERT_ALL_POSTGRES, params).scalars())


def _columns(names, rows):
    """Rows as one list per column, keyed by names (empty lists when there are no rows)."""
    return {name: [row[index] for row in rows] for index, name in enumerate(names)}


def _existing(connection, new):
    """The message first created under new's idempotency key, or IllegalTransition if new differs from it."""
    row = connection.execute(select(_messages).where(_messages.c.idempotency_key == new.idempotency_key)).one()
    tags = list(connection.execute(select(_tags.c.tag).where(_tags.c.message_id == row.id)).scalars())
    first = SentMessage(id=row.id, event_type=row.event_type, payload=json.loads(row.payload), reference=row.reference,
                        tags=tags, idempotency_key=row.idempotency_key, created_at=row.created_at, created=False,
                        deliver_at=row.deliver_at,
                        deliveries=[SentDelivery(d.id, d.endpoint_id, d.status) for d in connection.execute(
                            select(_deliveries.c.id, _deliveries.c.endpoint_id, _deliveries.c.status)
                            .where(_deliveries.c.message_id == row.id).order_by(_deliveries.c.created_at))])
    return _same_or_refused(new, first)


def _same_or_refused(new, sent):
    """The first message again (not created) if new says the same, else IllegalTransition naming what differs."""
    differs = [name for name, theirs, ours in (
        ("event_type", sent.event_type, new.event_type), ("payload", sent.payload, new.payload),
        ("reference", sent.reference, new.reference), ("tags", sorted(sent.tags), sorted(new.tags)),
        ("deliver_at", sent.deliver_at, new.deliver_at),
    ) if theirs != ours]
    if differs:
        return IllegalTransition(
            f"idempotency key {new.idempotency_key!r} was already used for message {sent.id}, whose "
            f"{', '.join(differs)} differ{'s' if len(differs) == 1 else ''}; use a new key for a new message",
            field="idempotency_key")
    return SentMessage(**{**sent.__dict__, "created": False})


def get_message(message_id):
    """Return the message or raise NotFound."""
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message with id {message_id}")
    return message
