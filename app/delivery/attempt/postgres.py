"""PostgreSQL's forms of the claim and the record, built from the one definition in claim.py and record.py.

PostgreSQL can return the columns of joined tables from an UPDATE, so the claim reads everything an
attempt needs in the same round trip (SQLite claims, then reads). Nothing here decides anything: the
columns, the readiness conditions and the gates come from claim.py, so a new gate or column cannot
be forgotten on one database.
"""

from sqlalchemy import bindparam, update

from app.delivery.attempt import claim as spec


def claim_statement(values):
    """UPDATE ... FROM endpoints, messages ... RETURNING the claim columns, for every ready ungated id."""
    d, e, m = spec.deliveries, spec.endpoints, spec.messages
    return (update(d).where(d.c.id.in_(bindparam("ids", expanding=True)), e.c.id == d.c.endpoint_id,
                            m.c.id == d.c.message_id, spec.pending_and_due(), spec.in_service(), spec.ungated())
            .values(**values).returning(*spec.CLAIM_COLUMNS))
