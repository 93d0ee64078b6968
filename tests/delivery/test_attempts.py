import threading
from datetime import timedelta

from app.delivery.attempt.pipeline import attempt_delivery
from app.models import AttemptTrigger, DeliveryStatus, Endpoint, EndpointState, ErrorClass, utcnow
from app.models import Delivery as DeliveryRow
from tests.support.factories import load, send, update
from tests.support.receiver import Reply


def attempt(app, delivery_id):
    with app.app_context():
        return attempt_delivery(delivery_id) is not None


def make_due(app, delivery_id):
    update(app, DeliveryRow, delivery_id, next_attempt_at=utcnow())


def test_success_marks_delivery_succeeded_and_endpoint_healthy(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    _, (delivery_id,) = send(app)
    assert attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert (delivery.attempt_count, delivery.scheduled_attempt_count, delivery.next_attempt_at) == (1, 1, None)
    (only,) = delivery.attempts_list
    assert (only.number, only.trigger, only.response_status) == (1, AttemptTrigger.SCHEDULED, 200)
    assert not only.will_retry
    assert only.request_url == endpoint.url and only.duration_ms >= 0
    assert only.request_headers["webhook-id"] == delivery.message_id
    with app.app_context():
        from app.extensions import db

        health = db.session.get(Endpoint, endpoint.id)
        assert health.consecutive_failures == 0 and health.last_success_at is not None


def test_failed_attempt_schedules_next_attempt(app, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(500, b"boom"))
    _, (delivery_id,) = send(app)
    before = utcnow()
    assert attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING
    assert before < delivery.next_attempt_at < before + timedelta(seconds=2)  # test schedule: 0.05 s
    (first,) = delivery.attempts_list
    assert first.will_retry and first.next_attempt_at == delivery.next_attempt_at
    assert (first.response_status, first.error_class, first.response_body) == (500, ErrorClass.HTTP, "boom")
    assert (delivery.last_response_status, delivery.last_error) == (500, "HTTP 500 Internal Server Error")

    make_due(app, delivery_id)
    assert attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert [a.number for a in delivery.attempts_list] == [1, 2]


def test_client_error_fails_at_once(app, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(400, b"bad payload"))
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert not delivery.attempts_list[0].will_retry


def test_retries_stop_after_max_attempts(app, make_endpoint, receiver):
    make_endpoint(max_attempts=3)
    receiver.default = Reply(502)
    _, (delivery_id,) = send(app)
    for _ in range(3):
        make_due(app, delivery_id)
        assert attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.FAILED
    assert [a.will_retry for a in delivery.attempts_list] == [True, True, False]
    make_due(app, delivery_id)
    assert not attempt(app, delivery_id)  # failed is final: nothing to claim
    assert len(receiver.requests) == 3


def test_retry_after_is_honoured(app, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(429, headers={"Retry-After": "120"}))
    _, (delivery_id,) = send(app)
    before = utcnow()
    attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.next_attempt_at >= before + timedelta(seconds=120)


def test_blocked_target_is_recorded_and_final(app, make_endpoint, receiver):
    make_endpoint()
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = []
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts_list[0].error_class is ErrorClass.BLOCKED
    assert receiver.requests == []


def test_undecryptable_secret_is_a_config_error_without_a_request(app, make_endpoint, receiver):
    make_endpoint()
    app.config["SECRETS_ENCRYPTION_KEY"] = "9dC0gYp3m1C6Zx9Yc2uPqQm1O4wqkIY0o7u6mQZy2V8="
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts_list[0].error_class is ErrorClass.CONFIG
    assert "cannot be decrypted" in delivery.attempts_list[0].error
    assert receiver.requests == []


def test_shared_secret_never_appears_in_attempt_records(app, make_endpoint, receiver):
    endpoint = make_endpoint(signing_scheme="shared-secret")
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    assert receiver.requests[0].headers["X-Webhook-Secret"] == endpoint.secret
    stored = load(app, delivery_id).attempts_list[0].request_headers
    assert endpoint.secret not in str(stored) and stored["X-Webhook-Secret"] == "••••••••"


def test_two_concurrent_copies_make_one_request(app, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(200, delay=0.5))
    _, (delivery_id,) = send(app)
    results = []
    threads = [threading.Thread(target=lambda: results.append(attempt(app, delivery_id))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert len(receiver.requests) == 1 and receiver.max_in_flight == 1
    assert len(load(app, delivery_id).attempts_list) == 1


def test_a_message_arriving_before_the_due_time_claims_nothing(app, make_endpoint, receiver):
    make_endpoint()
    _, (delivery_id,) = send(app)
    update(app, DeliveryRow, delivery_id, next_attempt_at=utcnow() + timedelta(minutes=5))
    assert not attempt(app, delivery_id)
    assert load(app, delivery_id).status is DeliveryStatus.PENDING and receiver.requests == []


def test_paused_endpoint_holds_its_deliveries(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    update(app, Endpoint, endpoint.id, state=EndpointState.PAUSED)
    _, (delivery_id,) = send(app)
    assert not attempt(app, delivery_id)
    assert load(app, delivery_id).status is DeliveryStatus.PENDING and receiver.requests == []


def test_endpoint_health_counts_consecutive_failures(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    receiver.reply(Reply(500), Reply(500))
    _, (first,) = send(app)
    _, (second,) = send(app)
    attempt(app, first)
    attempt(app, second)
    with app.app_context():
        from app.extensions import db

        row = db.session.get(Endpoint, endpoint.id)
        assert row.consecutive_failures == 2 and row.failing_since is not None and row.last_success_at is None
    make_due(app, first)
    attempt(app, first)
    with app.app_context():
        row = db.session.get(Endpoint, endpoint.id)
        assert row.consecutive_failures == 0 and row.failing_since is None and row.last_success_at is not None
