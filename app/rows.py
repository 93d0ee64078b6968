"""One row by its primary key, or NotFound: how every service answers an id that names nothing."""

from app.errors import NotFound
from app.extensions import db


def get_or_not_found(model, key, message, *, text_key=False):
    """Return the model's row whose primary key is key; raise NotFound(message) when there is none.

    With text_key, a key that is not a string (a number or a list from JSON) names no row without a query.
    """
    row = db.session.get(model, key) if isinstance(key, str) or not text_key else None
    if row is None:
        raise NotFound(message)
    return row
