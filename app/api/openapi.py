"""GET /api/v1/openapi.json: the public contract, with schemas generated from app.api.schemas.

It states every status and content type the API answers, the scope each operation needs, and the links
between operations (the id a creation returns is what the reads and changes take). A contract test
(tests/api/test_contract.py) runs Schemathesis over it against the live app.
"""

from functools import cache

from flask import jsonify
from pydantic.json_schema import models_json_schema

from app.api import bp, catalog_openapi, inbound_openapi, portal_openapi, schemas
from app.api.openapi_parts import (
    ID,
    TERM,
    json_content,
    links,
    operation,
    param,
    ref,
)
from app.auth.api_keys import SCOPES
from app.delivery.queries import HTTP_STATUS
from app.models import DeliveryStatus, ErrorClass
from app.search import DAY, FIRST_DAY, LAST_DAY, MOMENT

#: A header value: HTTP drops the tabs and spaces around it before the app sees it, so they may appear.
_HEADER_TEXT = {"type": "string", "pattern": r"^[^\x00-\x08\x0a-\x1f\x7f]*$"}
#: Models read from requests (validation schemas) and written in answers (serialization schemas).
_IN = [schemas.EndpointIn, schemas.EndpointPatch, schemas.OperationalEndpointIn, schemas.OperationalEndpointPatch,
       schemas.RotateIn, schemas.RecoverIn, schemas.MessageIn, schemas.MessageBatchIn, schemas.RetryIn,
       schemas.ResendIn, schemas.ResolveIn, schemas.PreviewIn]
_OUT = [schemas.EndpointOut, schemas.EndpointListOut, schemas.EndpointCreatedOut, schemas.DeletedOut,
        schemas.OperationalEventTypesOut, schemas.RecoverOut, schemas.PreviewOut, schemas.MessageOut,
        schemas.MessageBatchOut, schemas.DeliveryOut,
        schemas.DeliveryDetailOut, schemas.DeliveryPageOut, schemas.StatsOut, schemas.SystemOut, schemas.ErrorOut]

def _batch_op():
    op = operation("createMessages", "Create up to 500 messages in one call. Per-message semantics: each message is "
                   "accepted or refused on its own, in order; a refused one writes nothing. 202 when at least one was "
                   "accepted; 422 when none was (each answer says why); 400/413/422 for a malformed call, which writes "
                   "nothing.", "messages:write", "202", "MessageBatchOut", body="MessageBatchIn", errors=("422",))
    op["responses"]["422"] = {"description": "Nothing accepted: the call, or every message, was refused",
                              "content": {"application/json": {"schema": {"oneOf": [ref("ErrorOut"),
                                                                                    ref("MessageBatchOut")]}}}}
    return op


def _recover_op():
    op = operation("recoverEndpoint", "Retry failed deliveries created since a time (dry_run counts them)",
                   "deliveries:write", "202", "RecoverOut", body="RecoverIn", params=ID, errors=("404", "422"))
    op["responses"]["200"] = {"description": "dry_run: how many deliveries would be retried",
                              **json_content("RecoverOut")}
    return op


#: A message id (msg_...): the route takes only ids with a kind, so /messages/batch is not one.
_MESSAGE_ID = [param("id", "path", {"type": "string", "pattern": r"^[A-Za-z]+_[^/\x00-\x1f\x7f]+$",
                                     "maxLength": 64})]


def _listing():
    """The query parameters of GET /deliveries: the monitor's filter (app.delivery.queries.DeliveryFilter)."""
    day = {"type": "string", "pattern": DAY.pattern, "description": f"A UTC day from {FIRST_DAY} to {LAST_DAY}"}
    return [
        param("status", schema={"type": "string", "enum": [s.value for s in DeliveryStatus]}),
        param("endpoint_id", schema=TERM),
        param("event_type", schema=TERM),
        param("created_from", schema=day, description="Created on or after this UTC day"),
        param("created_to", schema=day, description="Created on or before this UTC day"),
        param("since", schema={"type": "string", "pattern": MOMENT.pattern},
               description="Created at or after this moment (UTC unless it names an offset)"),
        param("http_status", schema={"type": "string", "pattern": HTTP_STATUS.pattern},
               description="Last response status: a code (500), a class (5xx) or none (no answer)"),
        param("error_class", schema={"type": "string", "enum": [e.value for e in ErrorClass]}),
        param("q", schema=TERM, description="Delivery id, or the start of a message id, reference, idempotency "
                                              "key or tag"),
        param("page", schema={"type": "integer", "minimum": 1, "maximum": 100_000}),
        param("per_page", schema={"type": "integer", "minimum": 1, "maximum": 100}),
    ]


#: What each action does to the order of a delivery with an ordering key (README, "Ordered delivery per key").
RETRY_ORDER = ("With an ordering key, the delivery keeps its place: it goes before the later deliveries of its key "
               "not yet sent (under the endpoint's ordering_failure skip, some may already have gone).")
REPLAY_ORDER = ("With an ordering key, the replay keeps its place and its webhook-sequence: it waits for the "
                "unfinished earlier deliveries of its key and holds up the later ones not yet sent; the receiver "
                "sees an old webhook-sequence again, like a duplicate.")
RESEND_ORDER = ("With an ordering key, the resent message keeps the key as a new message: it goes at the end of "
                "the key, with a new webhook-sequence.")


def ordered(op, description):
    """The operation, its description saying what it does to ordered delivery."""
    return {**op, "description": description}


def _rotate_op(operation_id):
    """Rotating an endpoint's secret, partner or operational alike."""
    return operation(operation_id, "Rotate the secret; the old one signs beside the new one for the grace period",
                     "endpoints:write", "200", "EndpointCreatedOut", body="RotateIn", body_required=False, params=ID,
                     errors=("404", "422", "500"))


def _endpoint_paths():
    endpoint_links = links("getEndpoint", "updateEndpoint", "deleteEndpoint", "rotateSecret", "sendTest",
                            "recoverEndpoint", "previewEndpointPayload")
    return {
        "/endpoints": {
            "post": operation("createEndpoint", "Create an endpoint; the response shows its secret once",
                              "endpoints:write", "201", "EndpointCreatedOut", body="EndpointIn", errors=("422", "500"),
                              links=endpoint_links),
            "get": operation("listEndpoints", "List endpoints", "read", "200", "EndpointListOut"),
        },
        "/endpoints/{id}": {
            "get": operation("getEndpoint", "Get an endpoint", "read", "200", "EndpointOut", params=ID,
                             errors=("404",)),
            "patch": operation("updateEndpoint", "Change an endpoint (only the fields sent; state pauses, resumes or "
                               "disables it)", "endpoints:write", "200", "EndpointOut", body="EndpointPatch",
                               body_required=False, params=ID, errors=("404", "422", "500")),
            "delete": operation("deleteEndpoint", "Delete an endpoint, keeping its history; refused while deliveries "
                                "wait unless force", "endpoints:write", "200", "DeletedOut",
                                params=ID + [param("force", schema={"type": "boolean"})], errors=("404", "409", "422")),
        },
        "/endpoints/{id}/rotate-secret": {"post": _rotate_op("rotateSecret")},
        "/endpoints/{id}/test": {"post": operation(
            "sendTest", "Send a webhook.test event now", "endpoints:write", "202", "DeliveryOut", params=ID,
            errors=("404",),
            links=links("getDelivery", "retryDelivery", "replayDelivery", "resolveDelivery", "cancelDelivery"))},
        "/endpoints/{id}/recover": {"post": _recover_op()},
        "/endpoints/{id}/preview": {"post": operation(
            "previewEndpointPayload", "Show the body and content type the endpoint would receive for an event, made "
            "by its payload format (nothing is sent); 422 says why a template fails for it", "read", "200",
            "PreviewOut", body="PreviewIn", params=ID, errors=("404", "422"))},
    }


def _operational_paths():
    operational_links = links("getOperationalEndpoint", "updateOperationalEndpoint", "deleteOperationalEndpoint",
                              "rotateOperationalSecret")
    return {
        "/operational-endpoints": {
            "post": operation("createOperationalEndpoint", "Create an operational endpoint: Hookyard posts its own "
                              "events to it (Standard Webhooks); the response shows its secret once",
                              "endpoints:write", "201", "EndpointCreatedOut", body="OperationalEndpointIn",
                              errors=("422", "500"), links=operational_links),
            "get": operation("listOperationalEndpoints", "List operational endpoints", "read", "200",
                             "EndpointListOut"),
        },
        "/operational-endpoints/{id}": {
            "get": operation("getOperationalEndpoint", "Get an operational endpoint", "read", "200", "EndpointOut",
                             params=ID, errors=("404",)),
            "patch": operation("updateOperationalEndpoint", "Change an operational endpoint (only the fields sent)",
                               "endpoints:write", "200", "EndpointOut", body="OperationalEndpointPatch",
                               body_required=False, params=ID, errors=("404", "422", "500")),
            "delete": operation("deleteOperationalEndpoint", "Delete an operational endpoint, cancelling the events "
                                "still waiting for it", "endpoints:write", "200", "DeletedOut", params=ID,
                                errors=("404",)),
        },
        "/operational-endpoints/{id}/rotate-secret": {"post": _rotate_op("rotateOperationalSecret")},
        "/operational-event-types": {"get": operation(
            "listOperationalEventTypes", "The events Hookyard posts to operational endpoints", "read", "200",
            "OperationalEventTypesOut")},
    }


def _delivery_paths():
    idempotency = param("Idempotency-Key", "header", {**_HEADER_TEXT, "maxLength": 200},
                         "The same key again returns the first message (Idempotent-Replayed: true); empty is none")
    return {
        "/messages": {"post": operation(
            "createMessage", "Create a message and fan it out to matching endpoints", "messages:write", "202",
            "MessageOut", body="MessageIn", params=[idempotency], errors=("409", "422"),
            links={**links("getMessage"), **links("getDelivery", source="$response.body#/deliveries/0/id")})},
        "/messages/batch": {"post": _batch_op()},
        "/messages/{id}": {"get": operation("getMessage", "Get a message and its deliveries", "read", "200",
                                            "MessageOut", params=_MESSAGE_ID, errors=("404",))},
        "/deliveries": {"get": operation("listDeliveries", "Search deliveries, newest first", "read", "200",
                                         "DeliveryPageOut", params=_listing(), errors=("422",))},
        "/deliveries/{id}": {"get": operation("getDelivery", "Get a delivery with every attempt", "read", "200",
                                              "DeliveryDetailOut", params=ID, errors=("404",))},
        "/deliveries/{id}/retry": {"post": ordered(operation(
            "retryDelivery", "Make one attempt now (or restart the retry schedule); counts against the hourly cap",
            "deliveries:write", "202", "DeliveryOut", body="RetryIn", body_required=False, params=ID,
            errors=("404", "409", "422", "429")), RETRY_ORDER)},
        "/deliveries/{id}/replay": {"post": ordered(operation(
            "replayDelivery", "Send it again whatever its status (trigger replay); counts against the hourly cap",
            "deliveries:write", "202", "DeliveryOut", params=ID, errors=("404", "409", "429")), REPLAY_ORDER)},
        "/deliveries/{id}/resend": {"post": ordered(operation(
            "resendDelivery", "Send an edited payload as a new message to the same endpoint, linked to the original",
            "messages:write", "202", "MessageOut", body="ResendIn", params=ID, errors=("404", "422", "429")),
            RESEND_ORDER)},
        "/deliveries/{id}/resolve": {"post": operation(
            "resolveDelivery", "Mark a failed delivery resolved with a note (it stays failed; the monitor's Failed "
            "tab leaves it out)", "deliveries:write", "200", "DeliveryOut", body="ResolveIn", params=ID,
            errors=("404", "409", "422"))},
        "/deliveries/{id}/cancel": {"post": operation("cancelDelivery", "Cancel a pending delivery", "deliveries:write",
                                                      "200", "DeliveryOut", params=ID, errors=("404", "409"))},
        "/stats": {"get": operation("getStats", "Delivery counts, broker queue depth and the oldest overdue delivery",
                                    "read", "200", "StatsOut")},
        "/system": {"get": operation("getSystem", "Workers alive, queues, last periodic runs, versions and warnings",
                                     "read", "200", "SystemOut")},
    }


def _schemas(models, mode):
    """The JSON Schemas of models and of the models they use, keyed by name, as OpenAPI components."""
    _, definitions = models_json_schema([(m, mode) for m in models], ref_template="#/components/schemas/{model}")
    return definitions["$defs"]


def _components():
    inputs = _schemas(_IN + inbound_openapi.IN + portal_openapi.IN + catalog_openapi.IN, "validation")
    outputs = _schemas(_OUT + inbound_openapi.OUT + portal_openapi.OUT + catalog_openapi.OUT, "serialization")
    scopes = ", ".join(SCOPES)
    return {
        "schemas": {**inputs, **outputs},  # no model is both read and written, so no name is given twice
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": (
            f"An API key (flask --app app api-keys create). Each operation lists the scope it needs: {scopes}; "
            "a key created without --scope has them all.")}},
    }


@cache
def spec():
    """Return the OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hookyard webhooks API", "version": "1.0.0"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {**_endpoint_paths(), **_operational_paths(), **_delivery_paths(), **inbound_openapi.inbound_paths(),
                  **portal_openapi.portal_paths(), **catalog_openapi.catalog_paths()},
        "components": _components(),
    }


@bp.get("/openapi.json")
def openapi():
    """Serve the OpenAPI document (no key needed)."""
    return jsonify(spec())
