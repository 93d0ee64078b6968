"""Whether the database is PostgreSQL, and an autocommitted connection to it: the claim and the record take a
single-statement form there (claim.py and record.py build it from their one definition)."""

from app.extensions import db


def available():
    """Whether the database is PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


def release_reads():
    """Give the session's connection back to the pool when the session has only read (a cached setting refreshed,
    say) before an autocommitted statement takes a connection of its own: a worker slot then holds one connection
    at a time, and slots can never all hold one while each waits for a second (the pool has fewer than slots)."""
    session = db.session()
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        session.commit()


def autocommit():
    """A connection whose statements commit at once: a single-statement claim or record needs no BEGIN/COMMIT."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
