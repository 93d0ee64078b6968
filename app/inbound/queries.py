"""Read-side queries over inbound events: the shared filter, search, counts (the API and the Inbound page)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.checks import check_choice
from app.errors import InvalidInput
from app.extensions import db
from app.inbound.headers import masked
from app.inbound.providers import masked_header_names
from app.inbound.rejections import stored_headers
from app.models import InboundEvent, InboundHandle, InboundRejection, InboundSource, InboundStatus
from app.rows import get_or_not_found
from app.search import DAY, MAX_TERM, ListFilter, normalise, parse_moment, pattern_condition, starts_with

#: An inbound event's public id prefix; the rest is an upper-case ULID, however it was typed.
ID_PREFIX = "in_"


def get_event(event_id):
    """Return the inbound event or raise NotFound."""
    return get_or_not_found(InboundEvent, event_id, f"no inbound event with id {event_id}", text_key=True)


def _as_id(term):
    """A typed event id in its stored form ("IN_01jd..." -> "in_01JD...")."""
    term = term.strip()
    return ID_PREFIX + term[3:].upper() if term[:3].lower() == ID_PREFIX else term


def matching(term):
    """Events whose id is term, or whose provider event id or a search handle (order number, Shopify id, QR code;
    see app.search) starts with it; handles whatever the case or a leading "#".

    One IN over a UNION of indexed look-ups, as app.delivery.queries.matching_handle does."""
    term = term.strip()
    ids = select(InboundEvent.id).where(InboundEvent.id == _as_id(term)).union(
        select(InboundEvent.id).where(starts_with(InboundEvent.provider_event_id, term)),
        select(InboundHandle.event_id).where(starts_with(InboundHandle.handle, normalise(term))),
    )
    return InboundEvent.id.in_(ids)


def _topic_condition(topic):
    """An exact topic, or a prefix written with a trailing "*" ("orders/*")."""
    return pattern_condition(InboundEvent.topic, topic, "*")


def _source_condition(source):
    """A source by id or by name (names are lower-case, ids are not, so one never passes for the other)."""
    value = source.id if isinstance(source, InboundSource) else source
    return InboundEvent.source_id.in_(
        select(InboundSource.id).where(or_(InboundSource.id == value, InboundSource.name == value)))


def _moment(value, field, *, end=False):
    """A datetime as given; a date (or "2026-11-23") as the start of that UTC day, or of the next when end."""
    if isinstance(value, str):
        value = value.strip()
        if DAY.fullmatch(value):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                raise InvalidInput(_l("%(field)s must be a date like 2026-11-23 or a time like 2026-11-23T10:00:00Z",
                                      field=field),
                                   field=field) from None
        else:
            value = parse_moment(value, field)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        if value >= date(9999, 12, 31):
            raise InvalidInput(_l("%(field)s must be a day before 9999-12-31", field=field), field=field)
        return datetime.combine(value + timedelta(days=1) if end else value, time(), UTC)
    raise InvalidInput(_l("%(field)s must be a date or a time", field=field), field=field)


@dataclass(frozen=True)
class InboundFilter(ListFilter):
    """What a person or an API call asked to see: source (id or name), status, topic ("orders/*" for a family),
    q (search), received_from and received_to (datetimes; a day counts whole, to included)."""

    source: str | None = None
    status: InboundStatus | None = None
    topic: str | None = None
    q: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None  # exclusive, once parsed

    @classmethod
    def make(cls, source=None, status=None, topic=None, q=None, received_from=None, received_to=None):
        """Build a filter from values or query-string text (blank is unset); raise InvalidInput naming a bad one."""
        text = {name: (value.strip() or None) if isinstance(value, str) else value
                for name, value in (("source", source), ("topic", topic), ("q", q))}
        for name, value in text.items():
            if value is not None and (not isinstance(value, str) or len(value) > MAX_TERM):
                raise InvalidInput(_l("%(name)s must be text of at most %(max_term)s characters",
                                      name=name, max_term=MAX_TERM), field=name)
        if isinstance(status, str) and status.strip():
            status = check_choice(InboundStatus, status.strip(),
                                  _l("status must be one of %(choices)s",
                                     choices=", ".join(s.value for s in InboundStatus)), "status")
        elif not isinstance(status, InboundStatus):
            status = None
        blank = ("", None)
        start = None if received_from in blank else _moment(received_from, "received_from")
        end = None if received_to in blank else _moment(received_to, "received_to", end=True)
        return cls(text["source"], status, text["topic"], text["q"], start, end)

    def conditions(self):
        """Return the SQL conditions on InboundEvent that this filter stands for."""
        found = []
        if self.source:
            found.append(_source_condition(self.source))
        if self.status is not None:
            found.append(InboundEvent.status == self.status)
        if self.topic and (condition := _topic_condition(self.topic)) is not None:
            found.append(condition)
        if self.q:
            found.append(matching(self.q))
        if self.received_from:
            found.append(InboundEvent.received_at >= self.received_from)
        if self.received_to:
            found.append(InboundEvent.received_at < self.received_to)
        return found


def event_query(source=None, status=None, topic=None, q=None, received_from=None, received_to=None):
    """Return a SELECT of matching inbound events, newest first (arguments as InboundFilter.make takes them)."""
    flt = InboundFilter.make(source, status, topic, q, received_from, received_to)
    return select(InboundEvent).where(*flt.conditions()).order_by(InboundEvent.received_at.desc(),
                                                                  InboundEvent.id.desc())


def list_events(flt, *, page=1, per_page=20, options=()):
    """Return (events newest first, has_more) for one page of a filtered search (options: loader options)."""
    query = (select(InboundEvent).where(*flt.conditions())
             .order_by(InboundEvent.received_at.desc(), InboundEvent.id.desc()).options(*options))
    rows = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)).all()
    return rows[:per_page], len(rows) > per_page


def status_counts(source=None, status=None, topic=None, q=None, received_from=None, received_to=None):
    """Return {"all": n, status value: n for every status} over matching events, the status argument ignored
    (the Inbound page's tabs). Also takes an InboundFilter as its first argument."""
    flt = source if isinstance(source, InboundFilter) else InboundFilter.make(
        source, None, topic, q, received_from, received_to)
    found = dict(db.session.execute(select(InboundEvent.status, func.count())
                                    .where(*flt.replace(status=None).conditions())
                                    .group_by(InboundEvent.status)).all())
    counts = {s.value: found.get(s, 0) for s in InboundStatus}
    return {"all": sum(counts.values()), **counts}


def known_topics(limit=200):
    """The distinct topics events have carried, sorted (the Inbound page's filter choices)."""
    return db.session.scalars(select(InboundEvent.topic).where(InboundEvent.topic.is_not(None)).distinct()
                              .order_by(InboundEvent.topic).limit(limit)).all()


def recent_rejections(source, limit=20):
    """The newest rejection samples kept for a source (app.inbound.rejections bounds them), as dicts whose headers
    are masked again with the source's own credential header names (a sample may predate a change of them)."""
    rows = db.session.scalars(select(InboundRejection).where(InboundRejection.source_name == source.name)
                              .order_by(InboundRejection.id.desc()).limit(limit)).all()
    return [_rejection(row, source) for row in rows]


def all_recent_rejections(limit=50):
    """The newest rejection samples of every source (and of requests to no known source), shown as
    recent_rejections shows them, each with its source's id (None for an unknown or deleted source)."""
    rows = db.session.scalars(select(InboundRejection).order_by(InboundRejection.id.desc()).limit(limit)).all()
    names = {row.source_name for row in rows}
    sources = {s.name: s for s in db.session.scalars(select(InboundSource).where(InboundSource.name.in_(names)))}
    return [_rejection(row, sources.get(row.source_name)) for row in rows]


def _rejection(row, source):
    also = masked_header_names(source) if source is not None else ()
    return {**{c.key: getattr(row, c.key) for c in InboundRejection.__table__.columns},
            "headers": stored_headers(row.source_name, row.headers or {}, also),
            "source_id": source.id if source is not None else None}


def shown_headers(event):
    """An event's stored headers masked again, with its source's own credential header names too."""
    return masked(event.headers or {}, masked_header_names(event.source))


def handles_of(event_ids):
    """{event id: [search handles, sorted]} for some events: what staff recognise one by (order number, QR)."""
    found = {}
    if event_ids:
        for event_id, handle in db.session.execute(select(InboundHandle.event_id, InboundHandle.handle)
                                                   .where(InboundHandle.event_id.in_(event_ids))
                                                   .order_by(InboundHandle.handle)):
            found.setdefault(event_id, []).append(handle)
    return found
