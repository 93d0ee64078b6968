"""GET /api/v1/openapi.json: the public contract, with schemas generated from app.api.schemas."""

from functools import cache

from flask import jsonify
from pydantic.json_schema import models_json_schema

from app.api import bp, schemas

_MODELS = [
    schemas.EndpointIn, schemas.EndpointPatch, schemas.EndpointOut, schemas.EndpointListOut,
    schemas.EndpointCreatedOut, schemas.DeletedOut, schemas.RotateIn, schemas.RecoverIn, schemas.RecoverOut,
    schemas.MessageIn,
    schemas.MessageOut, schemas.MessageBatchIn, schemas.MessageBatchOut, schemas.RetryIn, schemas.ResendIn,
    schemas.ResolveIn, schemas.DeliveryOut, schemas.DeliveryDetailOut, schemas.DeliveryPageOut,
    schemas.StatsOut, schemas.SystemOut, schemas.ErrorOut,
]

_ERRORS = {
    "400": "Malformed JSON",
    "401": "Missing or invalid API key",
    "404": "Unknown id",
    "409": "Conflict: the row's status does not allow this, or an idempotency key was used for another message",
    "429": "The key's hourly cap of retry actions is used up",
    "413": "Payload over the size limit",
    "422": "Invalid field",
}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name):
    return {"content": {"application/json": {"schema": _ref(name)}}}


def _op(summary, ok_status, ok_schema, *, body=None, params=(), errors=("401",)):
    op = {"summary": summary, "responses": {ok_status: {"description": "OK", **_json(ok_schema)}}}
    for code in errors:
        op["responses"][code] = {"description": _ERRORS[code], **_json("ErrorOut")}
    if body:
        op["requestBody"] = {"required": body not in ("RetryIn", "RotateIn"), **_json(body)}
    if params:
        op["parameters"] = list(params)
    return op


def _batch_op():
    op = _op("Create up to 500 messages in one call. Per-message semantics: each message is accepted or refused on "
             "its own, in order; a refused one writes nothing. 202 when at least one was accepted; 422 when none was "
             "(each answer says why); 400/413/422 for a malformed call, which writes nothing.", "202",
             "MessageBatchOut", body="MessageBatchIn", errors=("400", "401", "413", "422"))
    op["responses"]["422"] = {"description": "Nothing accepted: the call, or every message, was refused",
                              "content": {"application/json": {"schema": {"oneOf": [_ref("ErrorOut"),
                                                                                    _ref("MessageBatchOut")]}}}}
    return op


def _param(name, where="query", schema=None, description=None):
    param = {"name": name, "in": where, "required": where == "path", "schema": schema or {"type": "string"}}
    if description:
        param["description"] = description
    return param


def _paths():
    id_ = [_param("id", "path")]
    listing = [
        _param("status", schema={"type": "string", "enum": ["pending", "sending", "succeeded", "failed", "cancelled"]}),
        _param("endpoint_id"),
        _param("q", description="Exact delivery id, message id, reference, idempotency key or tag"),
        _param("page", schema={"type": "integer", "minimum": 1}),
        _param("per_page", schema={"type": "integer", "minimum": 1, "maximum": 100}),
    ]
    return {
        "/endpoints": {
            "post": _op("Create an endpoint; the response shows its secret once", "201", "EndpointCreatedOut",
                        body="EndpointIn", errors=("400", "401", "422")),
            "get": _op("List endpoints", "200", "EndpointListOut"),
        },
        "/endpoints/{id}": {
            "get": _op("Get an endpoint", "200", "EndpointOut", params=id_, errors=("401", "404")),
            "patch": _op("Change an endpoint (only the fields sent; state pauses, resumes or disables it)", "200",
                         "EndpointOut", body="EndpointPatch", params=id_, errors=("400", "401", "404", "422")),
            "delete": _op("Delete an endpoint, keeping its history; refused while deliveries wait unless force",
                          "200", "DeletedOut", params=id_ + [_param("force", schema={"type": "boolean"})],
                          errors=("401", "404", "409")),
        },
        "/endpoints/{id}/rotate-secret": {"post": _op(
            "Rotate the secret; the old one signs beside the new one for the grace period", "200",
            "EndpointCreatedOut", body="RotateIn", params=id_, errors=("400", "401", "404", "422"))},
        "/endpoints/{id}/test": {"post": _op("Send a webhook.test event now", "202", "DeliveryOut", params=id_,
                                             errors=("401", "404"))},
        "/endpoints/{id}/recover": {"post": _op(
            "Retry failed deliveries created since a time (dry_run counts them)", "202", "RecoverOut",
            body="RecoverIn", params=id_, errors=("400", "401", "404", "422"))},
        "/messages": {"post": _op(
            "Create a message and fan it out to matching endpoints", "202", "MessageOut", body="MessageIn",
            params=[_param("Idempotency-Key", "header")], errors=("400", "401", "409", "413", "422"))},
        "/messages/batch": {"post": _batch_op()},
        "/messages/{id}": {"get": _op("Get a message and its deliveries", "200", "MessageOut", params=id_,
                                      errors=("401", "404"))},
        "/deliveries": {"get": _op("Search deliveries, newest first", "200", "DeliveryPageOut", params=listing,
                                   errors=("401", "422"))},
        "/deliveries/{id}": {"get": _op("Get a delivery with every attempt", "200", "DeliveryDetailOut",
                                        params=id_, errors=("401", "404"))},
        "/deliveries/{id}/retry": {"post": _op(
            "Make one attempt now (or restart the retry schedule); counts against the hourly cap", "202",
            "DeliveryOut", body="RetryIn", params=id_, errors=("400", "401", "404", "409", "422", "429"))},
        "/deliveries/{id}/replay": {"post": _op(
            "Send it again whatever its status (trigger replay); counts against the hourly cap", "202",
            "DeliveryOut", params=id_, errors=("400", "401", "404", "409", "429"))},
        "/deliveries/{id}/resend": {"post": _op(
            "Send an edited payload as a new message to the same endpoint, linked to the original", "202",
            "MessageOut", body="ResendIn", params=id_, errors=("400", "401", "404", "413", "422", "429"))},
        "/deliveries/{id}/resolve": {"post": _op(
            "Mark a failed delivery resolved with a note (it stays failed; the monitor's Failed tab leaves it out)",
            "200", "DeliveryOut", body="ResolveIn", params=id_, errors=("400", "401", "404", "409", "422"))},
        "/deliveries/{id}/cancel": {"post": _op("Cancel a pending delivery", "200", "DeliveryOut", params=id_,
                                                errors=("401", "404", "409"))},
        "/stats": {"get": _op("Delivery counts, broker queue depth and the oldest overdue delivery", "200",
                              "StatsOut")},
        "/system": {"get": _op("Workers alive, queues, last periodic runs, versions and warnings", "200",
                               "SystemOut")},
    }


@cache
def spec():
    """Return the OpenAPI 3.1 document."""
    _, definitions = models_json_schema([(m, "validation") for m in _MODELS],
                                        ref_template="#/components/schemas/{model}")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hookyard webhooks API", "version": "1.0.0"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "schemas": definitions["$defs"],
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())
