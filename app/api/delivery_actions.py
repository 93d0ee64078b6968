"""The API's delivery actions beyond retry and cancel: replay, resend with an edited payload, resolve.

Replay and resend count against the same hourly cap as retries (per API key, as staff are per person),
and a replay respects the per-delivery cooldown; over the cap the answer is 429.
"""

from app.api import bp
from app.api.routes import api_actor, json_body, json_response, out, sent_json
from app.api.schemas import DeliveryOut, ResendIn, ResolveIn
from app.api.scopes import require_scope
from app.delivery import queries
from app.delivery.operations import deliveries as operations
from app.delivery.operations.resend import resend_delivery
from app.staff.retry_cap import check_retry_cap
from app.staff.settings import get_setting


def _capped_actor():
    """The API key as an actor, once it is known to have a retry action left this hour."""
    actor = api_actor()
    check_retry_cap(actor)
    return actor


@bp.post("/deliveries/<delivery_id>/replay")
@require_scope("deliveries:write")
def replay_delivery(delivery_id):
    """Send a delivery again whatever its status, as one attempt with trigger replay."""
    json_body()  # no fields, but a malformed body is still a 400
    delivery = operations.replay_delivery(delivery_id, actor=_capped_actor(),
                                          cooldown_seconds=get_setting("retry_cooldown_seconds"))
    return out(DeliveryOut, delivery, 202)


@bp.post("/deliveries/<delivery_id>/resend")
@require_scope("messages:write")
def resend(delivery_id):
    """Send an edited payload as a new message to this delivery's endpoint, linked to the original."""
    data = ResendIn.model_validate(json_body())
    sent = resend_delivery(delivery_id, data.payload, actor=_capped_actor())
    original = queries.get_delivery(delivery_id).message_id
    return json_response({**sent_json(sent), "resent_from_id": original}, 202)


@bp.post("/deliveries/<delivery_id>/resolve")
@require_scope("deliveries:write")
def resolve_delivery(delivery_id):
    """Mark a failed delivery resolved with a note; it stays failed."""
    data = ResolveIn.model_validate(json_body())
    return out(DeliveryOut, operations.resolve_delivery(delivery_id, data.note, actor=api_actor()))
