from collections import Counter

from app.audit import Actor
from app.delivery.endpoints.service import set_state
from app.extensions import db
from app.models import Delivery, DeliveryStatus
from tests.support.factories import load, send
from tests.support.grants import recording_grants
from tests.support.waiting import wait_until

ADMIN = Actor("admin@example.com")
#: Deliveries that wait while the endpoint is paused.
WAITING = 8



def test_a_paused_endpoint_holds_without_using_attempts_and_resuming_drains_within_the_rate_limit(
        app, make_endpoint, receiver, broker, worker, monkeypatch):
    # Given a paused endpoint limited to 2 requests a second, with webhooks arriving for it
    grants = recording_grants(monkeypatch)
    endpoint = make_endpoint(rate_limit_per_second=2)
    with app.app_context():
        set_state(endpoint.id, "paused", actor=ADMIN, reason="maintenance")
    ids = [send(app)[1][0] for _ in range(WAITING)]
    broker.join("webhooks")
    worker.join()

    # Then they wait, using no attempt, and say why
    assert receiver.requests == []
    with app.app_context():
        waiting = [db.session.get(Delivery, i) for i in ids]
        assert [(d.status, d.attempt_count, d.held_because) for d in waiting] == [
            (DeliveryStatus.PENDING, 0, "endpoint paused")] * WAITING

    # When it is resumed, every one is sent once, no more than its rate limit allows in any second
    with app.app_context():
        set_state(endpoint.id, "enabled", actor=ADMIN)

    def drained():
        broker.join("jobs")
        return all(load(app, i).status is DeliveryStatus.SUCCEEDED for i in ids)

    assert wait_until(drained, timeout=30, message=lambda: {i: load(app, i).status for i in ids})
    # (counted where the limiter counts them: when a request arrives depends on how busy the machine is)
    per_second = Counter(second for second in grants if second is not None)
    assert len(receiver.requests) == WAITING <= len(grants) and max(per_second.values()) <= 2, per_second
    assert [load(app, i).attempt_count for i in ids] == [1] * WAITING
