"""Whether the database is PostgreSQL, and an autocommitted connection to it: the claim and the record take a
single-statement form there (claim.py and record.py build it from their one definition)."""

from app.extensions import db


def available():
    """Whether the database is PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


def autocommit():
    """A connection whose statements commit at once: a single-statement claim or record needs no BEGIN/COMMIT."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
