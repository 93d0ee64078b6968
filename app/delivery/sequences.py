"""Each ordering key's sequence: the place of a message among the messages of its key, given at intake.

A key's counter (ordering_keys.last_sequence) is raised in the statement that writes the messages, so its row stays
locked until they are committed: a producer of the same key waits for the one before it, and a key's sequence
follows the order in which its messages became visible. A claim can therefore never see a message of a key
before an earlier one of the same key (app.delivery.attempt.ordering). Several messages of one key in a call take
consecutive numbers, in the call's order. Numbers only increase: a message an idempotency key turned away still
used its number, so a key's sequence may skip one.
"""

from collections import Counter

from sqlalchemy.dialects import postgresql, sqlite

from app.models import OrderingKey

_keys = OrderingKey.__table__

#: PostgreSQL (app.delivery.messages._write_postgres): the CTE "k" raising each key's counter, keys in order (so
#: producers of several keys lock them in the same order), and the SQL of a row's sequence from it.
POSTGRES_COUNTERS = """
k AS (
  INSERT INTO ordering_keys (key, last_sequence)
  SELECT x.key, x.last_sequence FROM json_populate_recordset(NULL::ordering_keys, CAST(:ordering_keys AS json)) AS x
  WHERE (SELECT current AND guarded FROM ok)
  ORDER BY x.key
  ON CONFLICT (key) DO UPDATE SET last_sequence = ordering_keys.last_sequence + EXCLUDED.last_sequence
  RETURNING key, last_sequence
)"""
POSTGRES_SEQUENCE = "x.ordering_sequence + (SELECT k.last_sequence FROM k WHERE k.key = x.ordering_key)"


def number(sents):
    """Give each keyed SentMessage its offset from its key's new last number (0 for the last of the key in this
    call, -1 for the one before...) as ordering_sequence; return [{"key", "last_sequence": count}] by key."""
    counts = Counter(sent.ordering_key for sent in sents if sent.ordering_key is not None)
    seen = {}
    for sent in sents:
        if sent.ordering_key is not None:
            seen[sent.ordering_key] = seen.get(sent.ordering_key, 0) + 1
            sent.ordering_sequence = seen[sent.ordering_key] - counts[sent.ordering_key]
    return [{"key": key, "last_sequence": count} for key, count in sorted(counts.items())]


def take(connection, sents):
    """Raise the counters of the keys of sents (not PostgreSQL's one statement) and give each keyed one its
    sequence number."""
    counters = number(sents)
    if not counters:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(_keys).values(counters)
    statement = upsert.on_conflict_do_update(
        index_elements=["key"], set_={"last_sequence": _keys.c.last_sequence + upsert.excluded.last_sequence},
    ).returning(_keys.c.key, _keys.c.last_sequence)
    last = dict(connection.execute(statement).all())
    finish(sents, last)


def finish(sents, last):
    """Turn the offsets number() gave into sequence numbers, from each key's new last number (last: {key: n})."""
    for sent in sents:
        if sent.ordering_key is not None:
            sent.ordering_sequence += last[sent.ordering_key]
