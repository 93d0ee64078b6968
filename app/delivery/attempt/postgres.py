"""PostgreSQL's forms of the claim and the record, built from the one definition in claim.py and record.py.

PostgreSQL can return the columns of joined tables from an UPDATE, so the claim reads everything an
attempt needs in the same round trip (SQLite claims, then reads). Nothing here decides anything: the
columns, the readiness conditions and the gates come from claim.py, so a new gate or column cannot
be forgotten on one database.
"""

import functools

from sqlalchemy import bindparam, insert, update

from app.delivery.attempt import claim as spec
from app.extensions import db
from app.models import DeliveryAttempt


def available():
    """Whether the database is PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


def autocommit():
    """A connection whose statements commit at once: a single-statement claim or record needs no BEGIN/COMMIT."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def claim_statement(values):
    """UPDATE ... FROM endpoints, messages ... RETURNING the claim columns, for every ready ungated id."""
    d, e, m = spec.deliveries, spec.endpoints, spec.messages
    return (update(d).where(d.c.id.in_(bindparam("ids", expanding=True)), e.c.id == d.c.endpoint_id,
                            m.c.id == d.c.message_id, spec.pending_and_due(), spec.in_service(), spec.ungated())
            .values(**values).returning(*spec.CLAIM_COLUMNS))


@functools.cache
def record_successes_statement(size):
    """Record size successful attempts in one statement: the deliveries moved on by record.py's own UPDATE, as a
    data-modifying WITH, and the attempt rows (bind parameters a_<column>_<i>) inserted."""
    from app.delivery.attempt import record

    moved = record.move_statement("postgresql", size).cte("moved")
    table = DeliveryAttempt.__table__
    rows = [{name: bindparam(f"a_{name}_{i}", type_=table.c[name].type) for name in record.ATTEMPT_COLUMNS}
            for i in range(size)]
    return insert(table).values(rows).add_cte(moved)
