"""GET /api/v1/openapi.json: the public contract, with schemas generated from app.api.schemas.

It states every status and content type the API answers, the scope each operation needs, and the links
between operations (the id a creation returns is what the reads and changes take). A contract test
(tests/api/test_contract.py) runs Schemathesis over it against the live app.
"""

from functools import cache

from flask import jsonify
from pydantic.json_schema import models_json_schema

from app.api import bp, schemas
from app.auth.api_keys import SCOPES
from app.delivery.queries import HTTP_STATUS
from app.models import DeliveryStatus, ErrorClass
from app.search import DAY, FIRST_DAY, LAST_DAY, MAX_TERM, MOMENT
from app.text import ONE_LINE_PATTERN

#: Models read from requests (validation schemas) and written in answers (serialization schemas).
_IN = [schemas.EndpointIn, schemas.EndpointPatch, schemas.RotateIn, schemas.RecoverIn, schemas.MessageIn,
       schemas.MessageBatchIn, schemas.RetryIn, schemas.ResendIn, schemas.ResolveIn]
_OUT = [schemas.EndpointOut, schemas.EndpointListOut, schemas.EndpointCreatedOut, schemas.DeletedOut,
        schemas.RecoverOut, schemas.MessageOut, schemas.MessageBatchOut, schemas.DeliveryOut,
        schemas.DeliveryDetailOut, schemas.DeliveryPageOut, schemas.StatsOut, schemas.SystemOut, schemas.ErrorOut]

_ERRORS = {
    "400": "Malformed JSON, or a control character in the address or a query parameter",
    "401": "Missing or invalid API key",
    "403": "The API key lacks the scope this operation needs",
    "404": "Unknown id",
    "409": "Conflict: the state of the delivery, endpoint, source or inbound event does not allow this, or an "
           "idempotency key was used for another message",
    "413": "Body over the size limit",
    "429": "The key's hourly cap of retry actions is used up",
    "422": "Invalid field (the answer names it)",
    "500": "The server cannot read an endpoint secret or header (SECRETS_ENCRYPTION_KEY does not match)",
    "503": "The database is unavailable; nothing to do but try again after Retry-After seconds",
}
#: What any authenticated operation may answer besides its own statuses.
_ALWAYS = ("400", "401", "403", "503")
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "required": True,
                                "schema": {"type": "integer", "minimum": 0}}}
_ONE_LINE = {"type": "string", "pattern": ONE_LINE_PATTERN}
#: A header value: HTTP drops the tabs and spaces around it before the app sees it, so they may appear.
_HEADER_TEXT = {"type": "string", "pattern": r"^[^\x00-\x08\x0a-\x1f\x7f]*$"}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name):
    return {"content": {"application/json": {"schema": _ref(name)}}}


def _responses(ok_status, ok_schema, errors, links=None):
    responses = {ok_status: {"description": "OK", **_json(ok_schema)}}
    if links:
        responses[ok_status]["links"] = links
    for code in sorted({*_ALWAYS, *errors}):
        responses[code] = {"description": _ERRORS[code], **_json("ErrorOut")}
    responses["503"]["headers"] = _RETRY_AFTER
    return responses


def _op(operation_id, summary, scope, ok_status, ok_schema, *, body=None, body_required=True, params=(),
        errors=(), links=None):
    op = {"operationId": operation_id, "summary": summary, "security": [{"bearer": [scope]}],
          "responses": _responses(ok_status, ok_schema, errors, links)}
    if body:
        op["requestBody"] = {"required": body_required, **_json(body)}
        op["responses"].setdefault("413", {"description": _ERRORS["413"], **_json("ErrorOut")})
    if params:
        op["parameters"] = list(params)
    return op


def _batch_op():
    op = _op("createMessages", "Create up to 500 messages in one call. Per-message semantics: each message is "
             "accepted or refused on its own, in order; a refused one writes nothing. 202 when at least one was "
             "accepted; 422 when none was (each answer says why); 400/413/422 for a malformed call, which writes "
             "nothing.", "messages:write", "202", "MessageBatchOut", body="MessageBatchIn", errors=("422",))
    op["responses"]["422"] = {"description": "Nothing accepted: the call, or every message, was refused",
                              "content": {"application/json": {"schema": {"oneOf": [_ref("ErrorOut"),
                                                                                    _ref("MessageBatchOut")]}}}}
    return op


def _recover_op():
    op = _op("recoverEndpoint", "Retry failed deliveries created since a time (dry_run counts them)",
             "deliveries:write", "202", "RecoverOut", body="RecoverIn", params=_ID, errors=("404", "422"))
    op["responses"]["200"] = {"description": "dry_run: how many deliveries would be retried", **_json("RecoverOut")}
    return op


def _param(name, where="query", schema=None, description=None):
    param = {"name": name, "in": where, "required": where == "path", "schema": schema or _ONE_LINE}
    if description:
        param["description"] = description
    return param


def _links(*operation_ids, source="$response.body#/id"):
    return {op[0].upper() + op[1:]: {"operationId": op, "parameters": {"id": source}} for op in operation_ids}


_ID = [_param("id", "path", {**_ONE_LINE, "minLength": 1, "maxLength": 64})]
#: A message id (msg_...): the route takes only ids with a kind, so /messages/batch is not one.
_MESSAGE_ID = [_param("id", "path", {"type": "string", "pattern": r"^[A-Za-z]+_[^/\x00-\x1f\x7f]+$",
                                     "maxLength": 64})]
_TERM = {**_ONE_LINE, "maxLength": MAX_TERM}


def _listing():
    """The query parameters of GET /deliveries: the monitor's filter (app.delivery.queries.DeliveryFilter)."""
    day = {"type": "string", "pattern": DAY.pattern, "description": f"A UTC day from {FIRST_DAY} to {LAST_DAY}"}
    return [
        _param("status", schema={"type": "string", "enum": [s.value for s in DeliveryStatus]}),
        _param("endpoint_id", schema=_TERM),
        _param("event_type", schema=_TERM),
        _param("created_from", schema=day, description="Created on or after this UTC day"),
        _param("created_to", schema=day, description="Created on or before this UTC day"),
        _param("since", schema={"type": "string", "pattern": MOMENT.pattern},
               description="Created at or after this moment (UTC unless it names an offset)"),
        _param("http_status", schema={"type": "string", "pattern": HTTP_STATUS.pattern},
               description="Last response status: a code (500), a class (5xx) or none (no answer)"),
        _param("error_class", schema={"type": "string", "enum": [e.value for e in ErrorClass]}),
        _param("q", schema=_TERM, description="Delivery id, or the start of a message id, reference, idempotency "
                                              "key or tag"),
        _param("page", schema={"type": "integer", "minimum": 1, "maximum": 100_000}),
        _param("per_page", schema={"type": "integer", "minimum": 1, "maximum": 100}),
    ]


def _endpoint_paths():
    endpoint_links = _links("getEndpoint", "updateEndpoint", "deleteEndpoint", "rotateSecret", "sendTest",
                            "recoverEndpoint")
    return {
        "/endpoints": {
            "post": _op("createEndpoint", "Create an endpoint; the response shows its secret once", "endpoints:write",
                        "201", "EndpointCreatedOut", body="EndpointIn", errors=("422", "500"), links=endpoint_links),
            "get": _op("listEndpoints", "List endpoints", "read", "200", "EndpointListOut"),
        },
        "/endpoints/{id}": {
            "get": _op("getEndpoint", "Get an endpoint", "read", "200", "EndpointOut", params=_ID, errors=("404",)),
            "patch": _op("updateEndpoint", "Change an endpoint (only the fields sent; state pauses, resumes or "
                         "disables it)", "endpoints:write", "200", "EndpointOut", body="EndpointPatch",
                         body_required=False, params=_ID, errors=("404", "422", "500")),
            "delete": _op("deleteEndpoint", "Delete an endpoint, keeping its history; refused while deliveries "
                          "wait unless force", "endpoints:write", "200", "DeletedOut",
                          params=_ID + [_param("force", schema={"type": "boolean"})], errors=("404", "409", "422")),
        },
        "/endpoints/{id}/rotate-secret": {"post": _op(
            "rotateSecret", "Rotate the secret; the old one signs beside the new one for the grace period",
            "endpoints:write", "200", "EndpointCreatedOut", body="RotateIn", body_required=False, params=_ID,
            errors=("404", "422", "500"))},
        "/endpoints/{id}/test": {"post": _op(
            "sendTest", "Send a webhook.test event now", "endpoints:write", "202", "DeliveryOut", params=_ID,
            errors=("404",),
            links=_links("getDelivery", "retryDelivery", "replayDelivery", "resolveDelivery", "cancelDelivery"))},
        "/endpoints/{id}/recover": {"post": _recover_op()},
    }


def _delivery_paths():
    idempotency = _param("Idempotency-Key", "header", {**_HEADER_TEXT, "maxLength": 200},
                         "The same key again returns the first message (Idempotent-Replayed: true); empty is none")
    return {
        "/messages": {"post": _op(
            "createMessage", "Create a message and fan it out to matching endpoints", "messages:write", "202",
            "MessageOut", body="MessageIn", params=[idempotency], errors=("409", "422"),
            links={**_links("getMessage"), **_links("getDelivery", source="$response.body#/deliveries/0/id")})},
        "/messages/batch": {"post": _batch_op()},
        "/messages/{id}": {"get": _op("getMessage", "Get a message and its deliveries", "read", "200", "MessageOut",
                                      params=_MESSAGE_ID, errors=("404",))},
        "/deliveries": {"get": _op("listDeliveries", "Search deliveries, newest first", "read", "200",
                                   "DeliveryPageOut", params=_listing(), errors=("422",))},
        "/deliveries/{id}": {"get": _op("getDelivery", "Get a delivery with every attempt", "read", "200",
                                        "DeliveryDetailOut", params=_ID, errors=("404",))},
        "/deliveries/{id}/retry": {"post": _op(
            "retryDelivery", "Make one attempt now (or restart the retry schedule); counts against the hourly cap",
            "deliveries:write", "202", "DeliveryOut", body="RetryIn", body_required=False, params=_ID,
            errors=("404", "409", "422", "429"))},
        "/deliveries/{id}/replay": {"post": _op(
            "replayDelivery", "Send it again whatever its status (trigger replay); counts against the hourly cap",
            "deliveries:write", "202", "DeliveryOut", params=_ID, errors=("404", "409", "429"))},
        "/deliveries/{id}/resend": {"post": _op(
            "resendDelivery", "Send an edited payload as a new message to the same endpoint, linked to the original",
            "messages:write", "202", "MessageOut", body="ResendIn", params=_ID, errors=("404", "422", "429"))},
        "/deliveries/{id}/resolve": {"post": _op(
            "resolveDelivery", "Mark a failed delivery resolved with a note (it stays failed; the monitor's Failed "
            "tab leaves it out)", "deliveries:write", "200", "DeliveryOut", body="ResolveIn", params=_ID,
            errors=("404", "409", "422"))},
        "/deliveries/{id}/cancel": {"post": _op("cancelDelivery", "Cancel a pending delivery", "deliveries:write",
                                                "200", "DeliveryOut", params=_ID, errors=("404", "409"))},
        "/stats": {"get": _op("getStats", "Delivery counts, broker queue depth and the oldest overdue delivery",
                              "read", "200", "StatsOut")},
        "/system": {"get": _op("getSystem", "Workers alive, queues, last periodic runs, versions and warnings",
                               "read", "200", "SystemOut")},
    }


def _inbound_paths():
    from app.api.inbound_openapi import inbound_paths  # late: it builds on this module's helpers

    return inbound_paths()


def _schemas(models, mode):
    """The JSON Schemas of models and of the models they use, keyed by name, as OpenAPI components."""
    _, definitions = models_json_schema([(m, mode) for m in models], ref_template="#/components/schemas/{model}")
    return definitions["$defs"]


def _components():
    from app.api import inbound_openapi  # late: it builds on this module's helpers

    inputs = _schemas(_IN + inbound_openapi.IN, "validation")
    outputs = _schemas(_OUT + inbound_openapi.OUT, "serialization")
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
        "paths": {**_endpoint_paths(), **_delivery_paths(), **_inbound_paths()},
        "components": _components(),
    }


@bp.get("/openapi.json")
def openapi():
    """Serve the OpenAPI document (no key needed)."""
    return jsonify(spec())
