"""Nothing a receiver sends can stop an attempt from being recorded, and no delivery can loop forever."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import DataError

from app.delivery.attempt import record, storable
from app.delivery.attempt.pipeline import attempt_delivery, claim_delivery
from app.delivery.operations.deliveries import cancel_delivery
from app.delivery.operations.sweep import sweep
from app.models import Delivery, DeliveryStatus, ErrorClass, utcnow
from tests.support.factories import load, send, update
from tests.support.receiver import Reply

LIMIT = 20480  # WEBHOOK_RESPONSE_BODY_LIMIT_BYTES


def attempt(app, delivery_id):
    with app.app_context():
        return attempt_delivery(delivery_id)


@pytest.mark.parametrize(("status", "body"), [
    (200, b"ok\x00and more after a NUL"),
    (500, b"\x00\x01\x02\xff binary"),
    (200, b"\xff\xfe not UTF-8"),
    (400, "d\u00e9j\u00e0 vu \U0001F600".encode()),
])
def test_any_response_body_is_recorded_byte_for_byte(app, make_endpoint, receiver, status, body):
    make_endpoint()
    receiver.reply(Reply(status, body))
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    (only,) = delivery.attempts_list
    assert storable.raw(only.response_body, only.response_body_encoding) == body
    assert only.response_status == status and not only.response_body_truncated
    expected = {200: DeliveryStatus.SUCCEEDED, 500: DeliveryStatus.PENDING, 400: DeliveryStatus.FAILED}[status]
    assert delivery.status is expected and delivery.attempt_count == 1


def test_a_huge_binary_body_is_kept_up_to_the_limit_and_marked_cut(app, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(200, b"\x00\xff" * 100_000))
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    (only,) = load(app, delivery_id).attempts_list
    assert only.response_body_truncated and only.response_body_encoding == storable.BASE64
    assert storable.raw(only.response_body, only.response_body_encoding) == (b"\x00\xff" * 100_000)[:LIMIT]


def test_text_cut_inside_a_character_stays_text(app, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(200, "\u20ac".encode() * 10_000))  # 3 bytes each; the limit falls inside one
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    (only,) = load(app, delivery_id).attempts_list
    assert only.response_body_encoding is None and only.response_body_truncated
    assert only.response_body == "\u20ac" * (LIMIT // 3)


def test_the_view_log_shows_a_binary_body_escaped_with_a_note(app, client, staff, make_endpoint, receiver):
    staff("viewer")
    make_endpoint()
    receiver.reply(Reply(500, b"oops\x00\xff"))
    _, (delivery_id,) = send(app)
    attempt(app, delivery_id)
    html = client.get(f"/admin/log/{delivery_id}").get_data(as_text=True)
    assert "oops\\x00\\xff" in html and "6 bytes that are not plain UTF-8 text" in html


def failing_batch_writes(monkeypatch):
    """Make every write of attempts with their full details fail, as a database refusing a value would (a DataError:
    an OperationalError would say the database cannot answer at all, see app.outages)."""
    real = record._write

    def write(results, *, with_health=True):
        if with_health:
            raise DataError("INSERT INTO delivery_attempts ...", {}, Exception("refused"))
        return real(results, with_health=with_health)

    monkeypatch.setattr(record, "_write", write)


def test_an_attempt_whose_details_cannot_be_stored_still_ends_and_counts(app, make_endpoint, receiver, monkeypatch):
    make_endpoint(max_attempts=1)
    receiver.reply(Reply(503, b"down"))
    _, (delivery_id,) = send(app)
    failing_batch_writes(monkeypatch)
    attempt(app, delivery_id)
    delivery = load(app, delivery_id)
    (only,) = delivery.attempts_list
    assert (only.response_status, only.error_class, only.response_body) == (503, ErrorClass.HTTP, None)
    assert "could not be stored" in only.error
    assert delivery.status is DeliveryStatus.FAILED  # its one attempt is used up: no endless re-sending
    assert delivery.attempt_count == 1 and delivery.lease_token is None


def lose_the_worker(app, delivery_id):
    """A worker claims the delivery, sends it and dies before recording; its lease then runs out."""
    with app.app_context():
        assert claim_delivery(delivery_id) is not None
    update(app, Delivery, delivery_id, lease_expires_at=utcnow() - timedelta(seconds=1))
    with app.app_context():
        return sweep()


def test_a_lost_worker_leaves_a_worker_lost_attempt_that_counts(app, make_endpoint, broker):
    make_endpoint(max_attempts=2)
    _, (delivery_id,) = send(app)
    assert lose_the_worker(app, delivery_id).expired_leases == 1
    delivery = load(app, delivery_id)
    (first,) = delivery.attempts_list
    assert (first.number, first.error_class, first.will_retry) == (1, ErrorClass.WORKER_LOST, True)
    assert "may have received" in first.error
    assert delivery.status is DeliveryStatus.PENDING and delivery.scheduled_attempt_count == 1

    update(app, Delivery, delivery_id, next_attempt_at=utcnow())
    lose_the_worker(app, delivery_id)  # the same again: its attempts are used up
    delivery = load(app, delivery_id)
    assert [a.error_class for a in delivery.attempts_list] == [ErrorClass.WORKER_LOST] * 2
    assert delivery.status is DeliveryStatus.FAILED and delivery.attempt_count == 2


def test_staff_may_cancel_a_sending_delivery_whose_worker_is_gone(app, make_endpoint):
    make_endpoint()
    _, (stale,) = send(app)
    _, (live,) = send(app)
    with app.app_context():
        claim_delivery(stale)
        claim_delivery(live)
    update(app, Delivery, stale, lease_expires_at=utcnow() - timedelta(seconds=1))
    with app.app_context():
        assert cancel_delivery(stale).status is DeliveryStatus.CANCELLED
        with pytest.raises(Exception, match="lease ran out"):
            cancel_delivery(live)
    assert load(app, live).status is DeliveryStatus.SENDING
