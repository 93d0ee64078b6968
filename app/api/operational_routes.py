"""The producer API for operational endpoints: where Hookyard posts its own events (create, list, read, change,
delete, rotate), and the catalog of those events."""

from app.api import bp
from app.api.endpoint_routes import with_secret
from app.api.routes import api_actor, json_body, out
from app.api.schemas import (
    DeletedOut,
    EndpointListOut,
    EndpointOut,
    OperationalEndpointIn,
    OperationalEndpointPatch,
    OperationalEventTypesOut,
    RotateIn,
)
from app.api.scopes import require_scope
from app.delivery import operational
from app.delivery.endpoints import operational_endpoints as endpoints
from app.delivery.endpoints.service import list_endpoints


@bp.post("/operational-endpoints")
@require_scope("endpoints:write")
def create_operational_endpoint():
    data = OperationalEndpointIn.model_validate(json_body()).model_dump(exclude_unset=True)
    endpoint, secret = endpoints.create_operational_endpoint(data.pop("url"), actor=api_actor(), **data)
    return with_secret(endpoint, secret, 201)


@bp.get("/operational-endpoints")
@require_scope("read")
def list_operational_endpoints():
    return out(EndpointListOut, {"data": list_endpoints(operational=True)})


@bp.get("/operational-endpoints/<endpoint_id>")
@require_scope("read")
def get_operational_endpoint(endpoint_id):
    return out(EndpointOut, endpoints.get_operational_endpoint(endpoint_id))


@bp.patch("/operational-endpoints/<endpoint_id>")
@require_scope("endpoints:write")
def update_operational_endpoint(endpoint_id):
    changes = OperationalEndpointPatch.model_validate(json_body()).model_dump(exclude_unset=True)
    return out(EndpointOut, endpoints.update_operational_endpoint(endpoint_id, changes, actor=api_actor()))


@bp.delete("/operational-endpoints/<endpoint_id>")
@require_scope("endpoints:write")
def delete_operational_endpoint(endpoint_id):
    cancelled = endpoints.delete_operational_endpoint(endpoint_id, actor=api_actor())
    return out(DeletedOut, {"id": endpoint_id, "deleted": True, "cancelled_deliveries": cancelled})


@bp.post("/operational-endpoints/<endpoint_id>/rotate-secret")
@require_scope("endpoints:write")
def rotate_operational_secret(endpoint_id):
    data = RotateIn.model_validate(json_body())
    endpoint, secret = endpoints.rotate_operational_secret(endpoint_id, actor=api_actor(),
                                                           grace_seconds=data.grace_seconds)
    return with_secret(endpoint, secret, 200)


@bp.get("/operational-event-types")
@require_scope("read")
def list_operational_event_types():
    return out(OperationalEventTypesOut, {"data": [{"name": name, "description": description}
                                                   for name, description in operational.EVENT_TYPES.items()]})
