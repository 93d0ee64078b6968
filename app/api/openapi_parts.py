"""The building blocks of the OpenAPI document (app.api.openapi and app.api.inbound_openapi): operations,
parameters, links and the errors every operation may answer."""

from app.search import MAX_TERM
from app.text import ONE_LINE_PATTERN

#: Description of each error status an operation may answer.
ERRORS = {
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
ALWAYS = ("400", "401", "403", "503")
#: The header a 503 answer carries.
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "required": True,
                               "schema": {"type": "integer", "minimum": 0}}}
ONE_LINE = {"type": "string", "pattern": ONE_LINE_PATTERN}


def ref(name):
    """Return a reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(name):
    """Return a JSON content entry of the named component schema."""
    return {"content": {"application/json": {"schema": ref(name)}}}


def responses(ok_status, ok_schema, errors, links=None):
    """Return an operation's responses: its success, its own errors and those any authenticated call may answer."""
    responses = {ok_status: {"description": "OK", **json_content(ok_schema)}}
    if links:
        responses[ok_status]["links"] = links
    for code in sorted({*ALWAYS, *errors}):
        responses[code] = {"description": ERRORS[code], **json_content("ErrorOut")}
    responses["503"]["headers"] = RETRY_AFTER
    return responses


def operation(operation_id, summary, scope, ok_status, ok_schema, *, body=None, body_required=True, params=(),
              errors=(), links=None):
    """Return one OpenAPI operation: its id, summary, scope, success and errors, body and parameters."""
    op = {"operationId": operation_id, "summary": summary, "security": [{"bearer": [scope]}],
          "responses": responses(ok_status, ok_schema, errors, links)}
    if body:
        op["requestBody"] = {"required": body_required, **json_content(body)}
        op["responses"].setdefault("413", {"description": ERRORS["413"], **json_content("ErrorOut")})
    if params:
        op["parameters"] = list(params)
    return op


def param(name, where="query", schema=None, description=None):
    """Return a parameter (in the query unless where says path)."""
    param = {"name": name, "in": where, "required": where == "path", "schema": schema or ONE_LINE}
    if description:
        param["description"] = description
    return param


def links(*operation_ids, source="$response.body#/id"):
    """Return links from an answer's id to the operations that take it."""
    return {op[0].upper() + op[1:]: {"operationId": op, "parameters": {"id": source}} for op in operation_ids}


#: The {id} path parameter.
ID = [param("id", "path", {**ONE_LINE, "minLength": 1, "maxLength": 64})]
#: A search term or a name in a filter.
TERM = {**ONE_LINE, "maxLength": MAX_TERM}
