"""Leases, the one way both pipelines hold a row while a worker acts on it.

A worker takes a row with a compare-and-set that moves it to its working status with a new lease token and a
lease that ends at lease_expires_at; it writes the outcome only while the row is still_mine (the status and
the token unchanged). A worker that dies leaves the lease to run out: the recovery sweep take_expired()s the
row with a token of its own, so a late worker's write and the sweep's can never both land.
"""

import secrets
from datetime import timedelta

from sqlalchemy import Table, and_, select, update

from app.extensions import db

#: A message may arrive this early (clock skew between machines) and still claim its row.
EARLY_TOLERANCE = timedelta(seconds=1)
#: The sweep's lease on a row whose worker was lost, while it records that attempt.
SWEEP_LEASE = timedelta(minutes=5)


def new_token():
    """Return a new lease token (16 hex digits)."""
    return secrets.token_hex(8)


def still_mine(table, status, token):
    """The row is still held by the lease token: in its working status, with that token (a model or a Table)."""
    columns = table.c if isinstance(table, Table) else table
    return and_(columns.status == status, columns.lease_token == token)


def take(model, condition, values, *columns, limit):
    """Compare-and-set up to limit rows matching condition to values; return their (id, *columns) rows, the
    columns as they were when taken. Does not commit.

    The condition is checked again on each row as it is written, so concurrent takers take each row once.
    """
    batch = select(model.id, *columns).where(condition).limit(limit).subquery()
    return db.session.execute(
        update(model).where(model.id == batch.c.id, condition).values(**values)
        .returning(*batch.c).execution_options(synchronize_session=False)).all()


def take_expired(model, status, now, *columns, limit):
    """Take up to limit rows in status whose lease ran out before now: a new token and SWEEP_LEASE, committed,
    so concurrent sweepers take each once. Return (token, rows) as take() does."""
    token = new_token()
    rows = take(model, (model.status == status) & (model.lease_expires_at < now),
                dict(lease_token=token, lease_expires_at=now + SWEEP_LEASE), *columns, limit=limit)
    db.session.commit()
    return token, rows
