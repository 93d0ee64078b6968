"""Reading a large table a batch at a time, in key order, without holding its rows or an offset."""

from sqlalchemy import tuple_

from app.extensions import db


def keyset_batches(query, key, batch_size):
    """Yield query's rows batch_size at a time, ordered by the columns key (which query selects first), each batch
    read after the caller has handled the one before; the last batch is the short (maybe empty) one."""
    cursor = None
    while True:
        batch = query.order_by(*key).limit(batch_size)
        if cursor is not None:
            batch = batch.where(tuple_(*key) > cursor)
        rows = db.session.execute(batch).all()
        yield rows
        if len(rows) < batch_size:
            return
        cursor = tuple(rows[-1])
