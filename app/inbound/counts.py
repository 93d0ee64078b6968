"""Inbound requests counted per source, hour and kind (received, duplicate, and each rejection reason): one upsert
per request, so a flood of forged requests costs a counter, not a row each."""

import functools
from datetime import timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import utcnow
from app.models.inbound import InboundCount

#: The window of the Sources page's counters, the API's and the alerts'.
WINDOW = timedelta(hours=24)
#: Kinds counted that are not a rejection reason: requests accepted, and processings by their outcome.
ACCEPTED_KINDS = ("received", "duplicate", "processed", "failed", "ignored")

_counts = InboundCount.__table__
_FIGURES = (select(_counts.c.source_name, _counts.c.kind, func.sum(_counts.c.count).label("n"))
            .where(_counts.c.source_name.in_(bindparam("names", expanding=True)),
                   _counts.c.hour_start > bindparam("since"))
            .group_by(_counts.c.source_name, _counts.c.kind))


@functools.cache
def _upsert(dialect_name):
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(_counts).values(source_name=bindparam("name"), hour_start=bindparam("hour"),
                                               kind=bindparam("kind"), count=1)
    return (statement.on_conflict_do_update(index_elements=["source_name", "hour_start", "kind"],
                                            set_={"count": _counts.c.count + 1})
            .returning(_counts.c.count))


def hour_of(moment):
    """Return the start of the hour moment falls in."""
    return moment.replace(minute=0, second=0, microsecond=0)


def count(session, source_name, kind, now=None):
    """Add one request of kind to source_name's counter for this hour, in the session's transaction; return the
    hour's count so far."""
    connection = session.connection()
    statement = _upsert(connection.dialect.name)
    return connection.execute(statement, {"name": source_name, "hour": hour_of(now or utcnow()),
                                          "kind": kind}).scalar_one()


def figures_24h(source_names, now=None):
    """Return {source name: {kind: requests in the last 24 hours}} for each name (kinds with none left out)."""
    names = list(source_names)
    figures = {name: {} for name in names}
    if not names:
        return figures
    since = hour_of(now or utcnow()) - WINDOW  # the current hour and the 23 before it
    for row in db.session.execute(_FIGURES, {"names": names, "since": since}):
        figures[row.source_name][row.kind] = int(row.n)
    return figures


def source_figures(source_names, now=None):
    """Return {source name: {received, processed, failed, duplicate, rejected}} over the last 24 hours, as
    figures_24h counts them: requests accepted as new events, processings that ended processed or failed (the
    overview's inbound cards count the same), repeated requests, and requests refused for any reason."""
    figures = {}
    for name, kinds in figures_24h(source_names, now).items():
        figures[name] = {kind: kinds.get(kind, 0) for kind in ("received", "processed", "failed", "duplicate")}
        figures[name]["rejected"] = sum(n for kind, n in kinds.items() if kind not in ACCEPTED_KINDS)
    return figures


def refused_24h(now=None):
    """Requests refused over the last 24 hours (as figures_24h counts them), every source and unknown ones together."""
    since = hour_of(now or utcnow()) - WINDOW
    return int(db.session.scalar(select(func.coalesce(func.sum(_counts.c.count), 0))
                                 .where(_counts.c.hour_start > since, _counts.c.kind.not_in(ACCEPTED_KINDS))))
