"""The event catalog: event types with a description, a JSON Schema, an example and a deprecation flag. Partners read
it on the public page; intake holds every message of a catalogued type to its schema (app.delivery.catalog_rules).
Every change is audited."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit import Action, record
from app.checks import check_flag
from app.delivery import matching
from app.delivery.catalog_rules import check_example, check_schema, forget_catalog
from app.errors import InvalidInput
from app.extensions import db
from app.models import EventType, utcnow
from app.models.types import new_id
from app.rows import get_or_not_found

#: Longest description of an event type.
MAX_DESCRIPTION = 5000


def list_event_types():
    """Every catalogued event type: those in use first, deprecated ones last, each by name."""
    return db.session.scalars(select(EventType).order_by(EventType.deprecated, EventType.name)).all()


def get_event_type(name):
    """Return the catalogued event type or raise NotFound."""
    return get_or_not_found(EventType, name, f"no event type {name} in the catalog")


def catalog_names():
    """The names of the catalogued event types, for pickers."""
    return list(db.session.scalars(select(EventType.name).order_by(EventType.name)))


def put_event_type(name, *, schema, description="", example=None, deprecated=False, actor):
    """Create or replace an event type; return (row, created). A schema that is not a valid JSON Schema, or an
    example it refuses, raises InvalidInput and nothing is written. A change raises its version and gives it a new
    revision (validators compiled for the old one are not used again) and is audited; the same definition again
    changes nothing."""
    matching.check_event_type(name)
    fields = {"description": _description(description), "schema": check_schema(schema),
              "example": check_example(schema, example), "deprecated": check_flag(deprecated, "deprecated")}
    row = db.session.get(EventType, name)
    created = row is None
    before = None if created else _definition(row)
    if not created and before == fields:
        return row, False
    if created:
        row = EventType(name=name, version=1, created_at=utcnow())
        db.session.add(row)
    else:
        row.version += 1
    row.revision = new_id("rev")
    for key, value in fields.items():
        setattr(row, key, value)
    row.updated_at, row.updated_by = utcnow(), actor.name
    summary = (_l("event type %(name)s added to the catalog", name=name) if created else
               _l("event type %(name)s changed in (version %(version)s) the catalog", name=name, version=row.version))
    record(actor, Action.EVENT_TYPE_CREATE if created else Action.EVENT_TYPE_UPDATE, summary, target_type="event_type",
           target_ids=[name], before=before, after=fields)
    db.session.commit()
    forget_catalog()
    return row, created


def delete_event_type(name, *, actor):
    """Remove an event type from the catalog (its messages are no longer checked); audited."""
    row = get_event_type(name)
    before = _definition(row)
    db.session.delete(row)
    summary = _l("event type %(name)s removed from the catalog", name=name)
    record(actor, Action.EVENT_TYPE_DELETE, summary, target_type="event_type",
           target_ids=[name], before=before)
    db.session.commit()
    forget_catalog()


def _definition(row):
    return {"description": row.description, "schema": row.schema, "example": row.example,
            "deprecated": row.deprecated}


def _description(text):
    if text is None:
        return ""
    if not isinstance(text, str) or len(text) > MAX_DESCRIPTION:
        raise InvalidInput(_l("description must be text of at most %(max_description)s characters",
                              max_description=MAX_DESCRIPTION), field="description")
    return text
