from datetime import timedelta

from app.delivery.attempt.pipeline import claim_delivery
from app.delivery.operations.sweep import sweep
from app.models import Delivery, DeliveryStatus, Endpoint, EndpointState, utcnow
from tasks.broker import queue_depth
from tests.support.factories import load, queued_delivery_ids, send, update


def test_overdue_pending_deliveries_are_enqueued_once_per_grace_period(app, make_endpoint, broker):
    make_endpoint()
    _, ids = send(app)
    _, more = send(app)
    broker.flush_all()  # the broker lost every message
    for delivery_id in ids + more:
        update(app, Delivery, delivery_id, next_attempt_at=utcnow() - timedelta(minutes=5))
    with app.app_context():
        assert sweep(grace_seconds=60).overdue == 2
        assert sweep(grace_seconds=60).overdue == 0  # taken already, within the grace period
    assert queued_delivery_ids(broker) == sorted(ids + more)  # each once


def test_recently_due_deliveries_are_left_to_the_broker(app, make_endpoint, broker):
    make_endpoint()
    send(app)
    broker.flush_all()
    with app.app_context():
        assert sweep(grace_seconds=60).total == 0


def test_expired_leases_return_to_pending_and_are_enqueued(app, make_endpoint, broker):
    make_endpoint()
    _, (delivery_id,) = send(app)
    with app.app_context():
        assert claim_delivery(delivery_id) is not None  # a worker took it, then died
    update(app, Delivery, delivery_id, lease_expires_at=utcnow() - timedelta(seconds=1))
    broker.flush_all()
    with app.app_context():
        assert sweep().expired_leases == 1
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING and delivery.lease_token is None
    assert queue_depth() == 1


def test_live_leases_are_left_alone(app, make_endpoint):
    make_endpoint()
    _, (delivery_id,) = send(app)
    with app.app_context():
        claim_delivery(delivery_id)
        assert sweep().total == 0
    assert load(app, delivery_id).status is DeliveryStatus.SENDING


def test_deliveries_of_paused_endpoints_are_not_swept(app, make_endpoint, broker):
    endpoint = make_endpoint()
    _, (delivery_id,) = send(app)
    update(app, Endpoint, endpoint.id, state=EndpointState.PAUSED)
    update(app, Delivery, delivery_id, next_attempt_at=utcnow() - timedelta(minutes=5))
    with app.app_context():
        assert sweep(grace_seconds=60).total == 0


def test_after_a_restart_every_pending_delivery_is_enqueued_with_its_delay(app, make_endpoint, broker):
    from app.delivery.operations.sweep import enqueue_all_pending

    make_endpoint()
    _, (due,) = send(app)
    _, (later,) = send(app)
    update(app, Delivery, later, next_attempt_at=utcnow() + timedelta(minutes=10))
    broker.flush_all()  # an in-memory broker after a restart
    with app.app_context():
        assert enqueue_all_pending() == 2
    assert queue_depth() == 2
