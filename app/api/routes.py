"""The producer API, /api/v1: authentication, messages, deliveries, stats (endpoints: endpoint_routes)."""

import json

from flask import g, jsonify, request

from app.api import bp
from app.api.errors import ApiError
from app.api.schemas import DeliveryDetailOut, DeliveryOut, DeliveryPageOut, MessageIn, MessageOut, RetryIn, StatsOut
from app.audit import Actor
from app.auth.api_keys import authenticate
from app.delivery import messages, queries
from app.delivery.operations import deliveries as operations
from app.extensions import db
from app.models import AttemptTrigger
from app.staff.limits import check_retry_cap
from app.staff.settings import get_setting

#: Routes anyone may read without a key.
PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def require_api_key():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise ApiError(401, "send an API key as 'Authorization: Bearer <key>'")
    g.api_key = authenticate(key.strip())
    if g.api_key is None:
        raise ApiError(401, "the API key is not valid")
    return None


def api_actor():
    """The API key in use, as an audit Actor."""
    return Actor(f"api:{g.api_key.name}", request.remote_addr)


def json_body():
    """Return the request's JSON object, or raise a 400 that says what is wrong with it."""
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: werkzeug answers 413
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def out(model, obj, status=200):
    return jsonify(model.model_validate(obj).model_dump(mode="json")), status


def _message_data(message):
    return {
        "id": message.id, "event_type": message.event_type, "payload": json.loads(message.payload),
        "reference": message.reference, "tags": message.tags, "idempotency_key": message.idempotency_key,
        "created_at": message.created_at, "deliveries": message.deliveries,
    }


@bp.post("/messages")
def create_message():
    body = json_body()
    header_key = request.headers.get("Idempotency-Key")
    if header_key and body.get("idempotency_key") not in (None, header_key):
        raise ApiError(422, "Idempotency-Key header and idempotency_key field differ", "idempotency_key")
    data = MessageIn.model_validate({**body, "idempotency_key": body.get("idempotency_key") or header_key})
    message, created = messages.send_message(
        data.event_type, data.payload, reference=data.reference, tags=data.tags,
        idempotency_key=data.idempotency_key, endpoint_ids=data.endpoint_ids,
    )
    db.session.commit()  # enqueues the deliveries (outbox)
    response, status = out(MessageOut, _message_data(message), 202)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response, status


@bp.get("/messages/<message_id>")
def get_message(message_id):
    return out(MessageOut, _message_data(messages.get_message(message_id)))


def _int_arg(name, default, low, high):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"{name} must be a whole number", name) from None
    if not low <= value <= high:
        raise ApiError(422, f"{name} must be from {low} to {high}", name)
    return value


@bp.get("/deliveries")
def list_deliveries():
    flt = queries.DeliveryFilter.from_args(request.args)
    page = _int_arg("page", 1, 1, 100_000)
    per_page = _int_arg("per_page", 20, 1, 100)
    rows, has_more = queries.list_deliveries(flt, page=page, per_page=per_page)
    data = [DeliveryOut.model_validate(r) for r in rows]
    return out(DeliveryPageOut, {"data": data, "page": page, "per_page": per_page, "has_more": has_more})


@bp.get("/deliveries/<delivery_id>")
def get_delivery(delivery_id):
    return out(DeliveryDetailOut, queries.get_delivery(delivery_id))


@bp.post("/deliveries/<delivery_id>/retry")
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
def cancel_delivery(delivery_id):
    return out(DeliveryOut, operations.cancel_delivery(delivery_id, actor=api_actor()))


@bp.get("/stats")
def stats():
    from tasks.broker import queue_depth  # late import: the API must load without a worker

    return out(StatsOut, {
        "deliveries": queries.status_counts(),
        "queue_depth": queue_depth(),
        "oldest_overdue_pending_seconds": queries.oldest_overdue_seconds(),
    })
