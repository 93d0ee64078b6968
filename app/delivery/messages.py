"""Create messages and fan them out to deliveries, inside the caller's transaction (a transactional outbox).

One message or five hundred cost the same few statements: the receiving endpoints are read once, and messages, tags,
handles and deliveries are written with one multi-row INSERT each (SQLite) or all in one statement (PostgreSQL). On
PostgreSQL the endpoints are not read for every write: each process remembers them as it last read them, and the
write statement compares their fingerprint (a change token a trigger replaces) and writes nothing if any endpoint
was added, changed, paused, disabled or deleted since (they are then read again and the messages matched again), so
a change made by any process takes effect on the next message. The same statement can check a caller's condition too
(Guard: the API checks its key there). Nothing is sent until the caller commits (app.outbox); a rollback sends
nothing. An idempotency key already used returns the first message and writes nothing; used for a different message,
it is refused (409), as Stripe does.
"""

import enum
import functools
import json
from dataclasses import dataclass, field, replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, String, bindparam, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from app import json_text
from app.database import autocommitted, in_transaction, kept_cursor
from app.delivery import catalog_rules, matching, scheduling, sequences, wake_notify
from app.delivery.handles import handle_rows
from app.delivery.message_rules import NewMessage, check_message
from app.errors import HookyardError, IllegalTransition, InvalidInput
from app.extensions import db
from app.models import (
    RECEIVING_TOKEN,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointState,
    Message,
    MessageHandle,
    MessageTag,
    utcnow,
)
from app.models.change_token import current_token_sql
from app.models.types import new_id
from app.outbox import enqueue_after_commit
from app.rows import get_or_not_found

#: Event types whose receivers a reading of the endpoints remembers at most (Receiving.receivers).
MATCHED_TYPES = 1024
#: Endpoints in these states receive new deliveries; a paused endpoint holds them until resumed.
RECEIVING_STATES = (EndpointState.ENABLED, EndpointState.PAUSED)

_messages, _tags, _deliveries, _endpoints = (Message.__table__, MessageTag.__table__, Delivery.__table__,
                                             Endpoint.__table__)
# Statements are built once: building them per call cost as much as running them.
def _receivers(operational):
    """The endpoints that take new deliveries, oldest first: the operational ones (Hookyard's own events,
    app.delivery.operational) or the others (a producer's messages); never both."""
    return (select(_endpoints.c.id, _endpoints.c.event_types)
            .where(_endpoints.c.state.in_(RECEIVING_STATES), _endpoints.c.deleted_at.is_(None),
                   _endpoints.c.operational.is_(operational))
            .order_by(_endpoints.c.created_at))


_RECEIVING, _OPERATIONAL = _receivers(False), _receivers(True)
_KNOWN = select(_endpoints.c.id).where(_endpoints.c.id.in_(bindparam("ids", expanding=True)),
                                       _endpoints.c.operational.is_(False))
_INSERT_MESSAGES, _INSERT_TAGS, _INSERT_DELIVERIES = insert(_messages), insert(_tags), insert(_deliveries)
_INSERT_HANDLES = insert(MessageHandle.__table__)


@functools.cache
def _insert_keyed_messages(dialect_name):
    """INSERT messages, skipping any whose idempotency key is taken (the loser of a race writes nothing)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (dialect.insert(_messages).on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(_messages.c.id))


#: PostgreSQL: the endpoints new messages may go to, as one value a write statement compares: their change token,
#: which a trigger replaces whenever one is added or deleted or its state, filter, kind or order changes
#: (app.models.endpoint.RECEIVING_TRIGGERS), in the transaction that changes it. One row, however many endpoints:
#: an md5 of every receiving endpoint's id, state and filter cost each write 1.1 ms at 1,000 endpoints, 8 ms at 5,000.
RECEIVING_FINGERPRINT = current_token_sql(RECEIVING_TOKEN)
# PostgreSQL: the receiving endpoints with their fingerprint, from one snapshot (one row with a null id when none).
_RECEIVING_POSTGRES = text(f"""
SELECT f.fingerprint, e.id, e.event_types
FROM (SELECT {RECEIVING_FINGERPRINT} AS fingerprint) f
LEFT JOIN endpoints e ON e.state IN ({", ".join(f"'{state.value}'" for state in RECEIVING_STATES)})
                         AND e.deleted_at IS NULL AND NOT e.operational
ORDER BY e.created_at""").columns(fingerprint=String, id=String, event_types=JSON)


@dataclass(frozen=True)
class Receiving:
    """The endpoints new messages may go to, as read at once: [(id, event_types)] in order, and on PostgreSQL their
    fingerprint (None on SQLite, where they are read for every write)."""

    endpoints: tuple
    fingerprint: str | None = None
    #: {(event type, match): the ids of the endpoints whose filters take it}: each event type is matched against every
    #: filter once per reading of the endpoints, not once per message (0.5 ms a message at 1,000 endpoints).
    matched: dict = field(default_factory=dict, compare=False, repr=False)

    def receivers(self, event_type, match):
        """The ids of the endpoints, in order, whose filters take event_type (match(event_types, event_type))."""
        key = (event_type, match)
        found = self.matched.get(key)
        if found is None:
            if len(self.matched) >= MATCHED_TYPES:
                self.matched.clear()
            found = self.matched[key] = tuple(endpoint_id for endpoint_id, event_types in self.endpoints
                                              if match(event_types, event_type))
        return found


#: PostgreSQL: the receiving endpoints as this process last read them; each write checks their fingerprint.
_known = None


@dataclass(frozen=True)
class Guard:
    """A condition the write statement checks besides the endpoints' fingerprint: SQL true or false, with its
    parameters (e.g. app.auth.api_keys: the request's API key is still live and unchanged). The SQL must be the
    same text every time (the statement is prepared once)."""

    sql: str
    params: dict


class GuardFailed(Exception):
    """The write's Guard was false: nothing was written."""


_NO_GUARD = Guard("TRUE", {})


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
    ordering_key: str | None = None
    #: The message's place among its ordering key's messages (app.delivery.sequences).
    ordering_sequence: int | None = None

    def schedule(self):
        """(next_attempt_at, held_reason, wake-up delay in seconds) of its new deliveries: now, or deliver_at."""
        return scheduling.first_attempt(self.created_at, self.deliver_at)


def send_message(event_type, payload, *, reference=None, tags=None, idempotency_key=None, endpoint_ids=None,
                 deliver_at=None, ordering_key=None, session=None, forwarded=False):
    """Create a message and a delivery per matching endpoint in the caller's transaction.

    Returns (message, created). Nothing is sent until the caller commits; a rollback sends nothing.
    With an idempotency key already used for the same message, returns the first one and creates nothing;
    for a different message, raises IllegalTransition. Only forwarded may use the forwarded namespace
    (app.delivery.matching). deliver_at (an aware datetime or ISO 8601 text, at most 30 days ahead) schedules
    the deliveries: they wait, held as "scheduled", until then. ordering_key (1 to 200 characters): each endpoint
    gets the deliveries of messages with the same key one after another, in the order the messages were created.
    """
    new = check_message(event_type, payload, reference=reference, tags=tags, idempotency_key=idempotency_key,
                        endpoint_ids=endpoint_ids, deliver_at=deliver_at, ordering_key=ordering_key,
                        forwarded=forwarded)
    (sent,) = send_messages([new], session=session)
    return sent, sent.created


def send_messages(items, session=None, guard=None, operational=False):
    """Create many messages at once in the caller's transaction; all or nothing.

    items are NewMessage (app.delivery.message_rules.check_message) or dicts of send_message's keywords.
    Returns [SentMessage] in order; raises the first item's error (its index in the message) and writes
    nothing the caller should keep: roll back on an error. guard and operational: see write_messages.
    """
    news = []
    for index, item in enumerate(items):
        try:
            news.append(item if isinstance(item, NewMessage) else check_message(**item))
        except HookyardError as exc:
            raise _numbered(exc, index, len(items)) from None
    results = write_messages(news, session=session, guard=guard, operational=operational)
    for index, result in enumerate(results):
        if isinstance(result, HookyardError):
            raise _numbered(result, index, len(results))
    return results


def _numbered(error, index, count):
    """The error, saying which message of several it is about."""
    return type(error)(f"message {index}: {error.message}" if count > 1 else error.message, field=error.field)


def write_messages(news, session=None, guard=None, operational=False):
    """Write checked messages; return, in order, a SentMessage or the HookyardError refusing that one message
    (unknown endpoint ids, an idempotency key used for a different message, a payload the event catalog refuses now
    that it changed). A refused message writes nothing.

    On PostgreSQL it is one statement, matched against the receiving endpoints and checked against the event catalog
    as this process last read them: it writes nothing if either changed since (they are read again, the messages
    matched and checked again), nor if guard (a Guard) is false, which raises GuardFailed. operational: Hookyard's
    own events, matched against the operational endpoints only (read for each write; exact event types,
    app.delivery.operational), a statement per table.
    """
    session = session or db.session
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql" and not operational
    notify = postgres and wake_notify.enabled()  # the write statement itself wakes the workers for what is due now
    if operational:
        receiving = Receiving(tuple((row.id, row.event_types) for row in connection.execute(_OPERATIONAL)))
    else:
        receiving = (_known if postgres else None) or _read_receiving(connection)
    catalog = catalog_rules.current_catalog() if postgres else None
    checked = _rechecked(news, catalog) if postgres else list(news)
    for _ in range(3):  # endpoints or catalog changed between their read and the write: read again; 3 is a storm
        live = [new for new in checked if isinstance(new, NewMessage)]
        results, rows = _plan(connection, live, receiving, operational)
        if not rows:
            written = set()
            break
        if not postgres:
            written = _insert(connection, rows)
            break
        with in_transaction(connection) as driver:  # psycopg sends it: SQLAlchemy's machinery cost more than it
            written = _insert_postgres(driver, rows, receiving.fingerprint, catalog.fingerprint, guard or _NO_GUARD,
                                       _to_wake(rows) if notify else ((), None))
        if written is not None:
            break
        receiving, catalog = _read_receiving(connection), catalog_rules.read_catalog()
        checked = _rechecked(checked, catalog)
    else:
        raise IllegalTransition(_l("the endpoints kept changing while the message was written; send it again"))
    _settle(session, connection, live, results, written, notified=notify)
    found = iter(results)
    return [new if isinstance(new, HookyardError) else next(found) for new in checked]


def write_at_once(new, guard=None):
    """PostgreSQL, one checked message (a NewMessage): write it in one autocommitted statement psycopg sends itself,
    against the receiving endpoints and the event catalog as this process last read them; return its SentMessage,
    or None when nothing was written and write_messages must do it (neither read yet, either changed since, an
    endpoint id outside them). Raises GuardFailed when guard is false, and the refusal of a message whose
    idempotency key was used for another. Deliveries the write does not notify go to db.session's outbox.
    """
    receiving, catalog = _known, catalog_rules.known_catalog()
    if receiving is None or catalog is None or new.catalog not in (None, catalog.fingerprint):
        return None
    if new.endpoint_ids is not None and not set(new.endpoint_ids) <= {i for i, _ in receiving.endpoints}:
        return None  # unknown ones are refused, disabled ones skipped: write_messages knows how
    (target,) = _targets(None, [new], receiving)  # every id asked is receiving: no read
    sent = _new(new, target, utcnow())
    notify = wake_notify.enabled()
    with autocommitted(db.engine) as connection:  # the engine: the request's session is not needed
        written = _insert_postgres(connection, [(new, sent)], receiving.fingerprint, catalog.fingerprint,
                                   guard or _NO_GUARD, _to_wake([(new, sent)]) if notify else ((), None))
    if written is None:
        return None
    results = [sent]
    _settle(db.session, None, [new], results, written, notified=notify)
    if isinstance(results[0], HookyardError):
        raise results[0]
    return results[0]


def _rechecked(news, catalog):
    """PostgreSQL: each message checked against catalog (the write compares its fingerprint) if it was checked
    against another, or the InvalidInput now refusing it; forwarded messages (never checked) and refusals as they
    are."""
    checked = []
    for new in news:
        if not isinstance(new, NewMessage) or new.catalog is None or new.catalog == catalog.fingerprint:
            checked.append(new)
            continue
        try:
            catalog_rules.check_payload(new.event_type, new.payload, catalog)
            checked.append(replace(new, catalog=catalog.fingerprint))
        except HookyardError as exc:
            checked.append(exc)
    return checked


def _settle(session, connection, news, results, written, notified=False):
    """Complete results in place: a message whose key was taken is the first one (or refused), a repeat of a key of
    this call the first of them; hand the new deliveries to the outbox (only those due later when the write
    notified the workers of those due now)."""
    for index, (new, result) in enumerate(zip(news, results, strict=True)):
        if isinstance(result, SentMessage) and result.id not in written:
            # its key was used before, or by a concurrent producer (no connection: write_at_once's was lent)
            results[index] = _existing(connection or session.connection(), new)
        elif isinstance(result, int):  # the same key earlier in this call
            first = results[result]
            results[index] = _same_or_refused(new, first) if isinstance(first, SentMessage) else first
    for result in results:
        if isinstance(result, SentMessage) and result.created:
            delay = result.schedule()[2]
            if notified and not delay:
                continue  # the write notified the workers
            for delivery in result.deliveries:
                enqueue_after_commit(session, delivery.id, delay)


def _to_wake(rows):
    """What the write notifies of rows [(new, sent)]: (the ids of the deliveries due at once, the earliest deliver_at
    of the others or None)."""
    later = [sent.deliver_at for _, sent in rows if sent.schedule()[2]]
    return [delivery.id for _, sent in rows if not sent.schedule()[2] for delivery in sent.deliveries], min(
        later, default=None)


def _plan(connection, news, receiving, operational=False):
    """What to write: (results, rows). results holds, in order, a new SentMessage, the HookyardError refusing the
    message, or the index of the earlier message of this call with the same idempotency key; rows the (new, sent)
    pairs to write."""
    now, results, rows, first_with_key = utcnow(), [], [], {}
    for new, target in zip(news, _targets(connection, news, receiving, operational), strict=True):
        if isinstance(target, HookyardError) or new.idempotency_key in first_with_key:
            results.append(target if isinstance(target, HookyardError) else first_with_key[new.idempotency_key])
            continue
        sent = _new(new, target, now)
        results.append(sent)
        rows.append((new, sent))
        if new.idempotency_key:
            first_with_key[new.idempotency_key] = len(results) - 1
    return results, rows


def _read_receiving(connection):
    """The receiving endpoints now (on PostgreSQL with their fingerprint, remembered for the next write)."""
    global _known
    if connection.dialect.name != "postgresql":
        return Receiving(tuple((row.id, row.event_types) for row in connection.execute(_RECEIVING)))
    rows = connection.execute(_RECEIVING_POSTGRES).all()
    _known = Receiving(tuple((row.id, row.event_types) for row in rows if row.id is not None), rows[0].fingerprint)
    return _known


def _new(new, endpoint_ids, now):
    return SentMessage(id=new_id("msg"), event_type=new.event_type, payload=new.payload, reference=new.reference,
                       tags=list(new.tags), idempotency_key=new.idempotency_key, created_at=now,
                       deliver_at=new.deliver_at, ordering_key=new.ordering_key,
                       deliveries=[SentDelivery(new_id("dlv"), endpoint_id) for endpoint_id in endpoint_ids])


def _targets(connection, news, receiving, operational=False):
    """For each message, the ids of the endpoints it goes to, or an InvalidInput naming unknown endpoint ids."""
    receiving_ids = {endpoint_id for endpoint_id, _ in receiving.endpoints}
    asked = {i for new in news for i in new.endpoint_ids or ()}
    # Receiving endpoints are known; only others (disabled, deleted or none at all) are looked up.
    unsure = asked - receiving_ids
    known = receiving_ids | (set(connection.execute(_KNOWN, {"ids": list(unsure)}).scalars())
                             if unsure and not operational else set())
    match = _operational_match if operational else matching.matches
    targets = []
    for new in news:
        unknown = [i for i in new.endpoint_ids or () if i not in known]
        if unknown:
            targets.append(InvalidInput(_l("unknown endpoint ids: %(unknown)s", unknown=', '.join(unknown)),
                                        field="endpoint_ids"))
            continue
        targets.append([endpoint_id for endpoint_id in receiving.receivers(new.event_type, match)
                        if new.endpoint_ids is None or endpoint_id in new.endpoint_ids])
    return targets


def _operational_match(event_types, event_type):
    """Say whether an operational endpoint with these event types (exact names; none is all) receives event_type."""
    return not event_types or event_type in event_types


def _values(rows):
    """The rows each table gets for rows [(new, sent)], as {table: [{column: value}]}: the one place a message's
    columns are built (both databases write these)."""
    sents = [sent for _, sent in rows]
    return {
        "messages": [{"id": sent.id, "event_type": new.event_type, "payload": new.body, "reference": new.reference,
                      "idempotency_key": new.idempotency_key, "created_at": sent.created_at,
                      "deliver_at": new.deliver_at, "ordering_key": new.ordering_key,
                      "ordering_sequence": sent.ordering_sequence} for new, sent in rows],
        "message_tags": [{"message_id": sent.id, "tag": tag} for sent in sents for tag in sent.tags],
        "message_handles": handle_rows(sents),  # what the monitor's search finds
        "deliveries": [{"id": d.id, "message_id": sent.id, "endpoint_id": d.endpoint_id, "event_type": sent.event_type,
                        "status": DeliveryStatus.PENDING, "attempt_count": 0, "scheduled_attempt_count": 0,
                        "next_attempt_at": next_at, "held_reason": held, "created_at": sent.created_at,
                        "ordering_key": sent.ordering_key, "ordering_sequence": sent.ordering_sequence}
                       for sent in sents for next_at, held, _ in [sent.schedule()] for d in sent.deliveries],
    }


def _insert(connection, rows):
    """Insert messages, tags, handles and deliveries (SQLite: a statement per table); return the ids of the messages
    written (a key taken skips one)."""
    sequences.take(connection, [sent for _, sent in rows])
    values = _values(rows)
    keyed = any(new.idempotency_key for new, _ in rows)
    statement = _insert_keyed_messages(connection.dialect.name) if keyed else _INSERT_MESSAGES
    result = connection.execute(statement, values["messages"])
    written = set(result.scalars()) if keyed else {sent.id for _, sent in rows}
    for table, statement in (("message_tags", _INSERT_TAGS), ("message_handles", _INSERT_HANDLES),
                             ("deliveries", _INSERT_DELIVERIES)):
        kept = [row for row in values[table] if row["message_id"] in written]
        if kept:
            connection.execute(statement, kept)
    return written


def _insert_postgres(connection, rows, fingerprint, catalog, guard, wake=((), None)):
    """_insert in one statement (_write_postgres): the ids of the messages written, or None when the receiving
    endpoints' fingerprint is no longer fingerprint or the event catalog's no longer catalog (nothing written).
    Raises GuardFailed when guard is false. When something is written, it also notifies the workers of wake (the
    deliveries due now, and the earliest moment others are due: app.delivery.wake_notify), which PostgreSQL passes
    on at commit. connection is a psycopg connection (app.database.autocommitted or in_transaction), sent the
    statement as psycopg SQL."""
    sents = [sent for _, sent in rows]
    counters = sequences.number(sents)
    values = _values(rows)
    tables = tuple((table, tuple(values[table][0])) for table in _PREFIX if values[table])  # none: left out
    params = {"receiving": fingerprint, "catalog": catalog, "wake_channel": wake_notify.CHANNEL,
              "wake": wake_notify.payloads(*wake), **guard.params, "ordering_keys": json_text.dumps(counters),
              **{table: json_text.dumps(values[table], default=_json_value) for table, _ in tables}}
    current, guarded, written, last_sequences, _ = kept_cursor(connection).execute(
        _driver_sql(tables, guard.sql, bool(counters)), params).fetchone()
    if not guarded:
        raise GuardFailed()
    if current and counters:
        sequences.finish(sents, dict(last_sequences))
    return set(written) if current else None


def _json_value(value):
    """A column value JSON does not know, as PostgreSQL reads it back (json_populate_recordset)."""
    return value.value if isinstance(value, enum.Enum) else value.isoformat()


#: The tables a message is written to, with the name of their rows' CTE in _write_postgres.
_PREFIX = {"messages": "m", "message_tags": "t", "message_handles": "h", "deliveries": "d"}


def _write_postgres(tables, guard_sql, ordered=False):
    """PostgreSQL: messages, tags, handles and deliveries in one statement, each table's rows one JSON parameter
    named after it, read as rows of that table (tables: ((table, column names), ...), messages first; a table
    without rows is left out); rows of a message whose idempotency key is taken are skipped with it; nothing at all
    unless the receiving endpoints' fingerprint is :receiving, the event catalog's :catalog and guard_sql is true;
    then a NOTIFY of :wake_channel per payload of :wake (none when null) if a message was written. One round trip
    instead of six, which was most of a POST's CPU; one JSON text per table, because psycopg's dumping of a
    parameter array per column cost more than the statement. ordered: some messages have an ordering key; their
    keys' counters are raised in the same statement (app.delivery.sequences)."""
    def rows(table, names):
        columns = ", ".join(sequences.POSTGRES_SEQUENCE if ordered and name == "ordering_sequence" else f"x.{name}"
                            for name in names)
        return (f"INSERT INTO {table} ({', '.join(names)}) SELECT {columns} "
                f"FROM json_populate_recordset(NULL::{table}, CAST(:{table} AS json)) AS x")

    (_, names), *children = tables  # messages first
    counters = f",{sequences.POSTGRES_COUNTERS}" if ordered else ""
    last = "(SELECT json_object_agg(key, last_sequence) FROM k)" if ordered else "NULL"
    linked = "".join(f""",
{_PREFIX[table]} AS (
  {rows(table, names)}
  WHERE x.message_id IN (SELECT id FROM m)
)""" for table, names in children)
    return text(f"""
WITH ok AS (
  SELECT {RECEIVING_FINGERPRINT} = :receiving AND {catalog_rules.CATALOG_FINGERPRINT} = :catalog AS current,
         ({guard_sql}) AS guarded
){counters}, m AS (
  {rows("messages", names)}
  WHERE (SELECT current AND guarded FROM ok)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id
){linked}
SELECT ok.current, ok.guarded, ARRAY(SELECT id FROM m) AS written, {last} AS last_sequences,
  (SELECT count(*) FROM (SELECT pg_notify(:wake_channel, w)
                         FROM unnest(string_to_array(CAST(:wake AS text), '{wake_notify.NOTIFY_SEPARATOR}')) AS w
                         WHERE EXISTS (SELECT 1 FROM m)) n) AS woken
FROM ok""")


@functools.cache
def _driver_sql(tables, guard_sql, ordered=False):
    """_write_postgres as psycopg takes it (%(name)s parameters), built and compiled once."""
    return str(_write_postgres(tables, guard_sql, ordered).compile(dialect=postgresql.psycopg.dialect()))


def _existing(connection, new):
    """The message first created under new's idempotency key, or IllegalTransition if new differs from it."""
    row = connection.execute(select(_messages).where(_messages.c.idempotency_key == new.idempotency_key)).one()
    tags = list(connection.execute(select(_tags.c.tag).where(_tags.c.message_id == row.id)).scalars())
    first = SentMessage(id=row.id, event_type=row.event_type, payload=json.loads(row.payload), reference=row.reference,
                        tags=tags, idempotency_key=row.idempotency_key, created_at=row.created_at, created=False,
                        deliver_at=row.deliver_at, ordering_key=row.ordering_key,
                        ordering_sequence=row.ordering_sequence,
                        deliveries=[SentDelivery(d.id, d.endpoint_id, d.status) for d in connection.execute(
                            select(_deliveries.c.id, _deliveries.c.endpoint_id, _deliveries.c.status)
                            .where(_deliveries.c.message_id == row.id).order_by(_deliveries.c.created_at))])
    return _same_or_refused(new, first)


def _same_or_refused(new, sent):
    """The first message again (not created) if new says the same, else IllegalTransition naming what differs."""
    differs = [name for name, theirs, ours in (
        ("event_type", sent.event_type, new.event_type), ("payload", sent.payload, new.payload),
        ("reference", sent.reference, new.reference), ("tags", sorted(sent.tags), sorted(new.tags)),
        ("deliver_at", sent.deliver_at, new.deliver_at), ("ordering_key", sent.ordering_key, new.ordering_key),
    ) if theirs != ours]
    if differs:
        return IllegalTransition(
            f"idempotency key {new.idempotency_key!r} was already used for message {sent.id}, whose "
            f"{', '.join(differs)} differ{'s' if len(differs) == 1 else ''}; use a new key for a new message",
            field="idempotency_key")
    return SentMessage(**{**sent.__dict__, "created": False})


def get_message(message_id):
    """Return the message or raise NotFound."""
    return get_or_not_found(Message, message_id, f"no message with id {message_id}")
