"""The event catalog over the API: PUT, GET and DELETE /api/v1/event-types[/<name>]."""

from flask import jsonify

from app.api import bp
from app.api.catalog_schemas import EventTypeDeletedOut, EventTypeIn, EventTypeListOut, EventTypeOut
from app.api.routes import api_actor, json_body
from app.api.scopes import require_scope
from app.delivery import catalog


def _out(model, data, status=200):
    return jsonify(model.model_validate(data).model_dump(mode="json", by_alias=True)), status


def _row(row):
    return {"name": row.name, "description": row.description, "schema": row.schema, "example": row.example,
            "deprecated": row.deprecated, "version": row.version, "created_at": row.created_at,
            "updated_at": row.updated_at}


@bp.put("/event-types/<name>")
@require_scope("event-types:write")
def put_event_type(name):
    data = EventTypeIn.model_validate(json_body())
    row, created = catalog.put_event_type(name, schema=data.schema_, description=data.description,
                                          example=data.example, deprecated=data.deprecated, actor=api_actor())
    return _out(EventTypeOut, _row(row), 201 if created else 200)


@bp.get("/event-types")
@require_scope("read")
def list_event_types():
    return _out(EventTypeListOut, {"data": [_row(row) for row in catalog.list_event_types()]})


@bp.get("/event-types/<name>")
@require_scope("read")
def get_event_type(name):
    return _out(EventTypeOut, _row(catalog.get_event_type(name)))


@bp.delete("/event-types/<name>")
@require_scope("event-types:write")
def delete_event_type(name):
    catalog.delete_event_type(name, actor=api_actor())
    return _out(EventTypeDeletedOut, {"name": name, "deleted": True})
