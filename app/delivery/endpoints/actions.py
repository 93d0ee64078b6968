"""One-click actions on an endpoint: send a test event now, recover its failed deliveries since a time."""

from flask_babel import lazy_gettext as _l

from app.audit import Action, record
from app.delivery.endpoints.service import get_endpoint
from app.delivery.message_rules import encode_payload
from app.delivery.operations import bulk
from app.delivery.queries import DeliveryFilter, count_deliveries
from app.extensions import db
from app.models import TEST_EVENT, AttemptTrigger, Delivery, JobKind, Message, utcnow
from app.outbox import enqueue_after_commit


def send_test_event(endpoint_id, *, actor):
    """Send a webhook.test message to this endpoint now, whatever its filter, state or breaker; return the
    delivery, whose attempt shows the outcome."""
    endpoint = get_endpoint(endpoint_id)
    now = utcnow()
    payload = {"type": TEST_EVENT, "endpoint_id": endpoint.id, "sent_at": now.isoformat(), "sent_by": actor.name}
    message = Message(event_type=TEST_EVENT, payload=encode_payload(payload), created_at=now)
    delivery = Delivery(message=message, endpoint_id=endpoint.id, event_type=TEST_EVENT, next_attempt_at=now,
                        created_at=now, next_trigger=AttemptTrigger.TEST, next_triggered_by=actor.name)
    db.session.add_all([message, delivery])
    db.session.flush()
    record(actor, Action.ENDPOINT_TEST, _l("sent a test event to %(url)s", url=endpoint.url), target_type="endpoint",
           target_ids=[endpoint.id], after={"delivery_id": delivery.id})
    enqueue_after_commit(db.session, delivery.id)
    db.session.commit()
    return delivery


def recovery_filter(endpoint_id, since):
    """The failed deliveries to this endpoint created since a moment."""
    get_endpoint(endpoint_id)
    return bulk.failed_matching(DeliveryFilter(endpoint_id=endpoint_id, since=since))


def recovery_preview(endpoint_id, since):
    """How many deliveries a recovery since this moment would retry."""
    return count_deliveries(recovery_filter(endpoint_id, since))


def start_recovery(endpoint_id, since, *, actor):
    """Retry, in the background, every failed delivery to this endpoint created since a moment."""
    return bulk.start_bulk_retry(recovery_filter(endpoint_id, since), actor=actor, kind=JobKind.RECOVER,
                                 audit_action=Action.ENDPOINT_RECOVER)
