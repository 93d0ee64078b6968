"""The producer API for endpoints: create, list, read, change, delete, rotate, test, recover."""

from flask import request

from app.api import bp
from app.api.errors import ApiError
from app.api.routes import api_actor, json_body, out
from app.api.schemas import (
    DeletedOut,
    DeliveryOut,
    EndpointCreatedOut,
    EndpointIn,
    EndpointListOut,
    EndpointOut,
    EndpointPatch,
    PreviewIn,
    PreviewOut,
    RecoverIn,
    RecoverOut,
    RotateIn,
)
from app.api.scopes import require_scope
from app.delivery.endpoints import actions as endpoint_actions
from app.delivery.endpoints import rotation
from app.delivery.endpoints import service as endpoints
from app.delivery.endpoints.preview import preview_body


def _with_secret(endpoint, secret, status):
    return out(EndpointCreatedOut, {**EndpointOut.model_validate(endpoint).model_dump(), "secret": secret}, status)


@bp.post("/endpoints")
@require_scope("endpoints:write")
def create_endpoint():
    data = EndpointIn.model_validate(json_body()).model_dump(exclude_unset=True)
    url, scheme = data.pop("url"), data.pop("signing", "standard")
    endpoint, secret = endpoints.create_endpoint(url, actor=api_actor(), signing_scheme=scheme, **data)
    return _with_secret(endpoint, secret, 201)


@bp.get("/endpoints")
@require_scope("read")
def list_endpoints():
    return out(EndpointListOut, {"data": endpoints.list_endpoints()})


@bp.get("/endpoints/<endpoint_id>")
@require_scope("read")
def get_endpoint(endpoint_id):
    return out(EndpointOut, endpoints.get_endpoint(endpoint_id))


@bp.patch("/endpoints/<endpoint_id>")
@require_scope("endpoints:write")
def update_endpoint(endpoint_id):
    changes = EndpointPatch.model_validate(json_body()).model_dump(exclude_unset=True)
    return out(EndpointOut, endpoints.update_endpoint(endpoint_id, changes, actor=api_actor()))


@bp.delete("/endpoints/<endpoint_id>")
@require_scope("endpoints:write")
def delete_endpoint(endpoint_id):
    force = request.args.get("force", "false")
    if force not in ("true", "false"):
        raise ApiError(422, "force must be true or false", "force")
    cancelled = endpoints.delete_endpoint(endpoint_id, actor=api_actor(), force=force == "true")
    return out(DeletedOut, {"id": endpoint_id, "deleted": True, "cancelled_deliveries": cancelled})


@bp.post("/endpoints/<endpoint_id>/rotate-secret")
@require_scope("endpoints:write")
def rotate_secret(endpoint_id):
    data = RotateIn.model_validate(json_body())
    endpoint, secret = rotation.rotate_secret(endpoint_id, actor=api_actor(), grace_seconds=data.grace_seconds)
    return _with_secret(endpoint, secret, 200)


@bp.post("/endpoints/<endpoint_id>/test")
@require_scope("endpoints:write")
def send_test(endpoint_id):
    return out(DeliveryOut, endpoint_actions.send_test_event(endpoint_id, actor=api_actor()), 202)


@bp.post("/endpoints/<endpoint_id>/preview")
@require_scope("read")
def preview(endpoint_id):
    data = PreviewIn.model_validate(json_body())
    body, content_type = preview_body(endpoint_id, data.event_type, data.payload, reference=data.reference,
                                      tags=data.tags)
    return out(PreviewOut, {"body": body, "content_type": content_type})


@bp.post("/endpoints/<endpoint_id>/recover")
@require_scope("deliveries:write")
def recover(endpoint_id):
    data = RecoverIn.model_validate(json_body())
    since = data.since  # in UTC (RecoverIn)
    if data.dry_run:
        return out(RecoverOut, {"count": endpoint_actions.recovery_preview(endpoint_id, since)})
    job = endpoint_actions.start_recovery(endpoint_id, since, actor=api_actor())
    return out(RecoverOut, {"count": job.total, "job_id": job.id}, 202)
