"""The inbound part of the OpenAPI document: sources and inbound events (app.api.openapi assembles it)."""

from app.api import inbound_schemas as schemas
from app.api.openapi_parts import ID, TERM, links, operation, param
from app.models import InboundStatus
from app.search import DAY, MOMENT

#: Models read from requests and written in answers.
IN = [schemas.SourceIn, schemas.SourcePatch, schemas.SourceRotateIn, schemas.MarkProcessedIn]
OUT = [schemas.SourceOut, schemas.SourceListOut, schemas.SourceCreatedOut, schemas.SourceDeletedOut,
       schemas.InboundEventOut, schemas.InboundEventDetailOut, schemas.InboundEventPageOut]


def _event_listing():
    """The query parameters of GET /inbound-events (app.inbound.queries.InboundFilter)."""
    when = {"type": "string", "anyOf": [{"pattern": DAY.pattern}, {"pattern": MOMENT.pattern}],
            "description": "A UTC day (counted whole) or a moment (UTC unless it names an offset)"}
    return [
        param("source", schema={**TERM, "minLength": 1}, description="A source id or name"),
        param("status", schema={"type": "string", "enum": [s.value for s in InboundStatus]}),
        param("type", schema={**TERM, "minLength": 1},
               description='The topic or event type; "orders/*" matches a family'),
        param("q", schema={**TERM, "minLength": 1}, description=(
            "An event id, or the start of a provider event id or of a value from the body (order number, "
            "Shopify id, QR code)")),
        param("received_from", schema=when, description="Received at or after"),
        param("received_to", schema=when, description="Received before this moment, or on or before this day"),
        param("page", schema={"type": "integer", "minimum": 1, "maximum": 100_000}),
        param("per_page", schema={"type": "integer", "minimum": 1, "maximum": 100}),
    ]


def inbound_paths():
    """The inbound paths of the document."""
    source_links = links("getInboundSource", "updateInboundSource", "deleteInboundSource", "rotateInboundSecret")
    event_links = links("getInboundEvent", "replayInboundEvent", "markInboundEventProcessed")
    return {
        "/inbound-sources": {
            "post": operation("createInboundSource", "Create a source of inbound webhooks (POST /inbound/<name>); a "
                              "generated secret is shown once. A forwarding source (forward: true) needs "
                              "messages:write too",
                              "inbound:write", "201", "SourceCreatedOut", body="SourceIn",
                              errors=("422", "500"), links=source_links),
            "get": operation("listInboundSources", "List inbound sources", "read", "200", "SourceListOut"),
        },
        "/inbound-sources/{id}": {
            "get": operation("getInboundSource", "Get an inbound source", "read", "200", "SourceOut", params=ID,
                             errors=("404",)),
            "patch": operation("updateInboundSource", "Change a source (only the fields sent; state pauses, resumes or "
                               "disables it); turning forwarding on needs messages:write too", "inbound:write", "200",
                               "SourceOut", body="SourcePatch", body_required=False,
                               params=ID, errors=("404", "422")),
            "delete": operation("deleteInboundSource", "Delete a source with its events; refused while events wait "
                                "to be processed unless force", "inbound:write", "200", "SourceDeletedOut",
                                params=ID + [param("force", schema={"type": "boolean"})], errors=("404", "409", "422")),
        },
        "/inbound-sources/{id}/rotate-secret": {"post": operation(
            "rotateInboundSecret", "Replace the secret (given, or generated and shown once); the old one verifies "
            "beside it for the grace period. A forwarding source's needs messages:write too", "inbound:write",
            "200", "SourceCreatedOut", body="SourceRotateIn",
            body_required=False, params=ID, errors=("404", "422", "500"))},
        "/inbound-events": {"get": operation("listInboundEvents", "Search inbound events, newest first", "read", "200",
                                             "InboundEventPageOut", params=_event_listing(), errors=("422",),
                                             links=links("getInboundEvent", "replayInboundEvent",
                                                    "markInboundEventProcessed", source="$response.body#/data/0/id"))},
        "/inbound-events/{id}": {"get": operation(
            "getInboundEvent", "Get an inbound event with its raw body, masked headers and processing attempts",
            "read", "200", "InboundEventDetailOut", params=ID, errors=("404",))},
        "/inbound-events/{id}/replay": {"post": operation(
            "replayInboundEvent", "Process the event again whatever its status; counts against the hourly cap",
            "inbound:write", "202", "InboundEventOut", params=ID, errors=("404", "409", "429"),
            links=event_links)},
        "/inbound-events/{id}/mark-processed": {"post": operation(
            "markInboundEventProcessed", "Settle a failed or ignored event by hand, with a note (audited)",
            "inbound:write", "200", "InboundEventOut", body="MarkProcessedIn", params=ID,
            errors=("404", "409", "422"))},
    }
