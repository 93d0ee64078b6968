"""The API for inbound webhooks: sources (create, list, read, change, delete, rotate) and the events they
accepted (search, read with the raw body, replay, mark processed)."""

import enum

from flask import request

from app.api import bp
from app.api.common import flag_arg, page_args
from app.api.errors import ApiError
from app.api.inbound_schemas import (
    InboundAttemptOut,
    InboundEventDetailOut,
    InboundEventOut,
    InboundEventPageOut,
    MarkProcessedIn,
    SourceCreatedOut,
    SourceDeletedOut,
    SourceIn,
    SourceListOut,
    SourceOut,
    SourcePatch,
    SourceRotateIn,
    body_text,
)
from app.api.routes import api_actor, json_body, out
from app.api.scopes import also_require, require_scope
from app.errors import InvalidInput
from app.inbound import actions, queries
from app.inbound import sources as service

#: Why forwarding needs messages:write beside inbound:write: a forwarding source's events become signed messages.
FORWARDING = "a forwarding source turns what it receives into messages sent to endpoints"

#: The query-string arguments of GET /inbound-events, and the filter field each one sets.
EVENT_ARGS = {"source": "source", "status": "status", "type": "topic", "q": "q", "received_from": "received_from",
              "received_to": "received_to"}


def _created(source, secret, status):
    if not secret:  # a secret someone gave is not sent back
        return out(SourceOut, source, status)
    return out(SourceCreatedOut, {**SourceOut.model_validate(source).model_dump(), "secret": secret}, status)


@bp.post("/inbound-sources")
@require_scope("inbound:write")
def create_inbound_source():
    data = SourceIn.model_validate(json_body()).model_dump(exclude_unset=True, exclude_none=True)
    if data.get("forward") is True:
        also_require("messages:write", FORWARDING)
    source, shown = service.create_source(**data, actor=api_actor())
    return _created(source, shown, 201)


@bp.get("/inbound-sources")
@require_scope("read")
def list_inbound_sources():
    return out(SourceListOut, {"data": service.list_sources()})


@bp.get("/inbound-sources/<source_id>")
@require_scope("read")
def get_inbound_source(source_id):
    return out(SourceOut, service.get_source(source_id))


@bp.patch("/inbound-sources/<source_id>")
@require_scope("inbound:write")
def update_inbound_source(source_id):
    changes = SourcePatch.model_validate(json_body()).model_dump(exclude_unset=True)
    for name in ("forward", "tolerance_seconds"):
        if name in changes and changes[name] is None:
            raise ApiError(422, f"{name} cannot be null", name)
    if isinstance(changes.get("options"), dict):
        changes["options"] = {k: v for k, v in changes["options"].items() if v is not None}
    if changes.get("state") is None:
        changes.pop("state", None)
    if changes.get("forward") is True:
        also_require("messages:write", FORWARDING)
    return out(SourceOut, service.update_source(source_id, changes, api_actor()))


@bp.delete("/inbound-sources/<source_id>")
@require_scope("inbound:write")
def delete_inbound_source(source_id):
    deleted = service.delete_source(source_id, api_actor(), force=flag_arg("force"))
    return out(SourceDeletedOut, {"id": source_id, "deleted": True, "events_deleted": deleted})


@bp.post("/inbound-sources/<source_id>/rotate-secret")
@require_scope("inbound:write")
def rotate_inbound_secret(source_id):
    data = SourceRotateIn.model_validate(json_body())
    if service.get_source(source_id).forward:  # whoever holds its secret can have messages sent
        also_require("messages:write", FORWARDING)
    secret = service.rotate_source_secret(source_id, new_secret=data.secret, grace_seconds=data.grace_seconds,
                                          actor=api_actor())
    return _created(service.get_source(source_id), None if data.secret else secret, 200)


def _event_filter():
    """The filter in the query string; a parameter given blank is refused, as GET /deliveries does."""
    values = {}
    for arg, field in EVENT_ARGS.items():
        if arg in request.args:
            if not request.args[arg].strip():
                raise ApiError(422, f"{arg} must not be empty; leave it out to match any", arg)
            values[field] = request.args[arg]
    try:
        return queries.InboundFilter.make(**values)
    except InvalidInput as exc:  # the filter calls it topic; the API's argument is type
        field = "type" if exc.field == "topic" else exc.field
        raise ApiError(422, exc.message.replace("topic", "type"), field) from None


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


def event_data(event):
    """An inbound event as the API lists it (InboundEventOut)."""
    data = {name: _plain(getattr(event, name)) for name in InboundEventOut.model_fields if name != "attempt_count"}
    return {**data, "attempt_count": event.attempts}


def event_detail(event):
    """An inbound event with its body, masked headers and processing attempts (InboundEventDetailOut)."""
    body, encoding = body_text(event.body)
    attempts = [{name: _plain(getattr(a, name)) for name in InboundAttemptOut.model_fields} for a in event.attempt_rows]
    return {**event_data(event), "headers": queries.shown_headers(event), "body": body, "body_encoding": encoding,
            "attempts": attempts}


@bp.get("/inbound-events")
@require_scope("read")
def list_inbound_events():
    flt = _event_filter()
    page, per_page = page_args()
    rows, has_more = queries.list_events(flt, page=page, per_page=per_page)
    return out(InboundEventPageOut, {"data": [event_data(e) for e in rows], "page": page, "per_page": per_page,
                                     "has_more": has_more})


@bp.get("/inbound-events/<event_id>")
@require_scope("read")
def get_inbound_event(event_id):
    return out(InboundEventDetailOut, event_detail(queries.get_event(event_id)))


@bp.post("/inbound-events/<event_id>/replay")
@require_scope("inbound:write")
def replay_inbound_event(event_id):
    """Process an event again whatever its status; counts against the key's hourly cap of retry actions."""
    json_body()  # no fields, but a malformed body is still a 400
    return out(InboundEventOut, event_data(actions.replay_event(event_id, api_actor())), 202)


@bp.post("/inbound-events/<event_id>/mark-processed")
@require_scope("inbound:write")
def mark_inbound_event_processed(event_id):
    data = MarkProcessedIn.model_validate(json_body())
    return out(InboundEventOut, event_data(actions.mark_event_processed(event_id, data.note, api_actor())))

