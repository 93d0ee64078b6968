"""The producer API, /api/v1: authentication, messages, deliveries, stats (endpoints: endpoint_routes)."""

import json
from dataclasses import replace

from flask import current_app, g, jsonify, request
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from app import json_text, outbox
from app.api import bp
from app.api.common import int_arg
from app.api.errors import ApiError, describe, item_error
from app.api.schemas import DeliveryDetailOut, DeliveryOut, DeliveryPageOut, MessageIn, MessageOut, RetryIn, StatsOut
from app.api.scopes import check_scope, require_scope
from app.audit import Actor
from app.auth.api_keys import STILL_LIVE, authenticate, reread, still_live_params
from app.delivery import messages, queries
from app.delivery.message_rules import check_message
from app.delivery.operations import deliveries as operations
from app.errors import HookyardError
from app.extensions import db
from app.json_errors import error_response
from app.models import AttemptTrigger
from app.staff.retry_cap import check_retry_cap
from app.staff.settings import get_setting

#: Most messages one batch call may carry.
BATCH_LIMIT = 500
#: Routes anyone may read without a key.
PUBLIC_ENDPOINTS = {"api.openapi"}
#: Routes whose one write statement checks the request's API key (api_keys.STILL_LIVE): the key this process last
#: read is not read again before them; an error answer reads it first (confirm_remembered_key).
KEY_CHECKED_BY_THE_WRITE = {"api.create_message"}


@bp.before_request
def require_api_key():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise ApiError(401, "send an API key as 'Authorization: Bearer <key>'")
    g.api_key = authenticate(key.strip(), remembered=request.endpoint in KEY_CHECKED_BY_THE_WRITE)
    _check_key_and_scope()
    return None


def _check_key_and_scope():
    """401 without a live key; 403 when the route names no scope and the key lacks any."""
    if g.api_key is None:
        raise ApiError(401, "the API key is not valid")
    if g.api_key.scopes is not None and not hasattr(current_app.view_functions.get(request.endpoint),
                                                    "required_scope"):
        raise ApiError(403, "this route names no scope, so only keys with every scope may use it")
    required = getattr(current_app.view_functions.get(request.endpoint), "required_scope", None)
    if required:
        check_scope(required)  # again here for a key read again after the view began


@bp.after_request
def confirm_remembered_key(response):
    """Before an error answer to a request whose key was not read for it (KEY_CHECKED_BY_THE_WRITE, the write not
    reached), read the key: a key revoked meanwhile gets 401, never another answer."""
    key = g.get("api_key")
    if not 400 <= response.status_code < 500 or key is None or key.confirmed:  # a 5xx says nothing of the key
        return response
    db.session.rollback()  # an error answer keeps nothing
    try:
        g.api_key = reread(key)
        _check_key_and_scope()
    except ApiError as exc:
        answer, answer.status_code = error_response(*describe(exc))
        return answer
    except SQLAlchemyError:
        db.session.rollback()  # the database is failing: its own error answer stands
    return response


def api_actor():
    """The API key in use, as an audit Actor."""
    return Actor(f"api:{g.api_key.name}", request.remote_addr)


def json_body():
    """Return the request's JSON object ({} when there is no body), or raise a 400 that says what is wrong with
    it; a body of only white space is not JSON."""
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: werkzeug answers 413
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "request body nests too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def out(model, obj, status=200):
    return jsonify(model.model_validate(obj).model_dump(mode="json")), status


def _message_data(message):
    return {
        "id": message.id, "event_type": message.event_type, "payload": json.loads(message.payload),
        "reference": message.reference, "tags": message.tags, "idempotency_key": message.idempotency_key,
        "created_at": message.created_at, "deliver_at": message.deliver_at, "deliveries": message.deliveries,
        "ordering_key": message.ordering_key, "ordering_sequence": message.ordering_sequence,
    }


def sent_json(sent):
    """A written (or replayed) message as the API shows it (MessageOut), built from what was written."""
    return {
        "id": sent.id, "event_type": sent.event_type, "payload": sent.payload, "reference": sent.reference,
        "tags": sent.tags, "idempotency_key": sent.idempotency_key,
        "created_at": _iso(sent.created_at), "deliver_at": _iso(sent.deliver_at) if sent.deliver_at else None,
        "deliveries": [{"id": d.id, "endpoint_id": d.endpoint_id, "status": d.status.value} for d in sent.deliveries],
        "ordering_key": sent.ordering_key, "ordering_sequence": sent.ordering_sequence,
    }


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def json_response(data, status):
    return current_app.response_class(json_text.dumps(data, ensure_ascii=False), status=status,
                                      mimetype="application/json")


def _checked(body, header_key=None):
    """Validate one message's fields (the single call's body); return a NewMessage or raise."""
    if header_key and body.get("idempotency_key") not in (None, header_key):
        raise ApiError(422, "Idempotency-Key header and idempotency_key field differ", "idempotency_key")
    key = body.get("idempotency_key")  # only an absent or null key takes the header's: "", {} or 0 are refused
    data = MessageIn.model_validate({**body, "idempotency_key": header_key if key is None else key})
    return check_message(data.event_type, data.payload, reference=data.reference, tags=data.tags,
                         idempotency_key=data.idempotency_key, endpoint_ids=data.endpoint_ids,
                         deliver_at=data.deliver_at, ordering_key=data.ordering_key)


@bp.post("/messages")
@require_scope("messages:write")
def create_message():
    new = _checked(json_body(), request.headers.get("Idempotency-Key"))
    sent = _write_checking_the_key(new)
    outbox.commit(db.session)  # enqueues the deliveries the write did not notify
    response = json_response(sent_json(sent), 202)
    if not sent.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _write_checking_the_key(new):
    """Write one message; on PostgreSQL in one autocommitted statement that writes nothing unless the request's API
    key is still live and unchanged (the key is then read again: 401 if revoked)."""
    session = db.session
    if db.engine.dialect.name != "postgresql":  # the engine, not the session's bind: no session made for nothing
        (sent,) = messages.send_messages([new])
        return sent
    try:
        # IMPORTANT: autocommit only when the request has begun no transaction (reading the key begins one): one
        # begun would silently stop being one. A single statement is atomic by itself.
        begun = session.registry.has() and session().in_transaction()
        sent = None if begun else messages.write_at_once(new, _key_guard())
        if sent is None:  # the general path: endpoints or catalog to read, or the transaction begun
            if not session().in_transaction():
                session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            (sent,) = messages.send_messages([new], guard=_key_guard())
    except messages.GuardFailed:
        session.rollback()
        g.api_key = reread(g.api_key)
        _check_key_and_scope()  # revoked: 401, nothing was written
        (sent,) = messages.send_messages([new], guard=_key_guard())
    g.api_key = replace(g.api_key, confirmed=True)
    return sent


def _key_guard():
    return messages.Guard(STILL_LIVE, still_live_params(g.api_key))


@bp.post("/messages/batch")
@require_scope("messages:write")
def create_messages():
    """Create up to BATCH_LIMIT messages; each is accepted or refused on its own (per-item semantics)."""
    request.max_content_length = current_app.config["API_BATCH_MAX_BYTES"]  # a batch is bigger than one message
    body = json_body()
    items = body.get("messages")
    if set(body) != {"messages"} or not isinstance(items, list) or not 1 <= len(items) <= BATCH_LIMIT:
        raise ApiError(422, f"send an object with one key, messages: a list of 1 to {BATCH_LIMIT} messages",
                       "messages")
    checked = [_checked_item(item) for item in items]
    written = iter(messages.write_messages([c for c in checked if not isinstance(c, Exception)]))
    results = [c if isinstance(c, Exception) else next(written) for c in checked]
    db.session.commit()  # enqueues every written message's deliveries (outbox)
    answers = [{"index": i, **(item_error(r) if isinstance(r, Exception) else {**sent_json(r), "created": r.created})}
               for i, r in enumerate(results)]
    accepted = any("id" in answer for answer in answers)
    return json_response({"messages": answers}, 202 if accepted else 422)


def _checked_item(item):
    """A batch item checked like a single call's body: a NewMessage, or the error refusing it."""
    try:
        if not isinstance(item, dict):
            raise ApiError(422, "each message must be a JSON object", "messages")
        return _checked(item)
    except (ApiError, HookyardError, ValidationError) as exc:
        return exc


@bp.get("/messages/<id:message_id>")
@require_scope("read")
def get_message(message_id):
    return out(MessageOut, _message_data(messages.get_message(message_id)))


def _delivery_filter():
    """The filter in the query string; unlike the monitor's form, the API refuses a parameter given blank."""
    for name in queries.DeliveryFilter.field_names():
        if name in request.args and not request.args[name].strip():
            raise ApiError(422, f"{name} must not be empty; leave it out to match any", name)
    return queries.DeliveryFilter.from_args(request.args)


@bp.get("/deliveries")
@require_scope("read")
def list_deliveries():
    flt = _delivery_filter()
    page = int_arg("page", 1, 1, 100_000)
    per_page = int_arg("per_page", 20, 1, 100)
    rows, has_more = queries.list_deliveries(flt, page=page, per_page=per_page)
    data = [DeliveryOut.model_validate(r) for r in rows]
    return out(DeliveryPageOut, {"data": data, "page": page, "per_page": per_page, "has_more": has_more})


@bp.get("/deliveries/<delivery_id>")
@require_scope("read")
def get_delivery(delivery_id):
    return out(DeliveryDetailOut, queries.get_delivery(delivery_id))


@bp.post("/deliveries/<delivery_id>/retry")
@require_scope("deliveries:write")
def retry_delivery(delivery_id):
    data = RetryIn.model_validate(json_body())
    actor = api_actor()
    check_retry_cap(actor)  # the same hourly cap and per-delivery cooldown as staff, per key
    delivery = operations.retry_delivery(
        delivery_id, trigger=AttemptTrigger.MANUAL, actor=actor, restart_schedule=data.restart_schedule,
        cooldown_seconds=get_setting("retry_cooldown_seconds"),
    )
    return out(DeliveryOut, delivery, 202)


@bp.post("/deliveries/<delivery_id>/cancel")
@require_scope("deliveries:write")
def cancel_delivery(delivery_id):
    return out(DeliveryOut, operations.cancel_delivery(delivery_id, actor=api_actor()))


@bp.get("/stats")
@require_scope("read")
def stats():
    from tasks.broker import queue_depth  # late import: the API must load without a worker

    return out(StatsOut, {
        "deliveries": queries.status_counts(),
        "queue_depth": queue_depth(),
        "oldest_overdue_pending_seconds": queries.oldest_overdue_seconds(),
    })
