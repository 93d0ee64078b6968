"""The event catalog's part of the OpenAPI document (app.api.openapi assembles it)."""

from app.api import catalog_schemas as schemas
from app.api.openapi_parts import json_content, operation, param
from app.delivery import matching

#: Models read from requests and written in answers.
IN = [schemas.EventTypeIn]
OUT = [schemas.EventTypeOut, schemas.EventTypeListOut, schemas.EventTypeDeletedOut]
#: The {name} path parameter: an event type.
NAME = [param("name", "path", {"type": "string", "pattern": matching.EVENT_TYPE.pattern, "maxLength": 200},
              "An event type, e.g. order.created")]


def _put_op():
    op = operation("putEventType", "Add an event type to the catalog (201) or change it (200). From then on every "
                   "message of this type is checked against its schema at intake (422 naming the field and the "
                   "rule). 422, nothing written: a schema that is not a valid JSON Schema 2020-12, or an example it "
                   "refuses", "event-types:write", "200", "EventTypeOut", body="EventTypeIn", params=NAME,
                   errors=("422",))
    op["responses"]["201"] = {"description": "Added to the catalog", **json_content("EventTypeOut")}
    return op


def catalog_paths():
    """The catalog's paths of the document."""
    return {
        "/event-types": {"get": operation(
            "listEventTypes", "List the event catalog: event types in use first, deprecated ones last", "read",
            "200", "EventTypeListOut")},
        "/event-types/{name}": {
            "put": _put_op(),
            "get": operation("getEventType", "Get a catalogued event type", "read", "200", "EventTypeOut",
                             params=NAME, errors=("404",)),
            "delete": operation("deleteEventType", "Remove an event type from the catalog; its messages are no "
                                "longer checked", "event-types:write", "200", "EventTypeDeletedOut", params=NAME,
                                errors=("404",)),
        },
    }
