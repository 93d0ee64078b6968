import pytest

from app.audit import Actor
from app.credentials.crypto import decrypt_headers
from app.delivery.attempt.pipeline import attempt_delivery
from app.delivery.endpoints.service import delete_endpoint, set_state, update_endpoint
from app.errors import IllegalTransition, InvalidInput, NotFound
from app.extensions import db
from app.models import AuditEntry, Delivery, DeliveryStatus, EndpointState
from tests.support.factories import load, load_endpoint, send
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

ADMIN = Actor("admin@example.com", "198.51.100.7")



def test_changes_are_applied_and_audited_with_before_and_after(app, make_endpoint):
    endpoint = make_endpoint(name="Shop")
    with app.app_context():
        update_endpoint(endpoint.id, {"name": "Warehouse", "timeout_seconds": 5, "event_types": ["order.*"],
                                      "headers": {"Authorization": "Bearer s3cr3t", "X-Shop": "7"}}, actor=ADMIN)
        entry = db.session.query(AuditEntry).filter_by(action="endpoint.update").one()
    assert entry.actor == "admin@example.com" and entry.ip == "198.51.100.7"
    assert entry.before == {"name": "Shop", "timeout_seconds": 10, "event_types": None, "headers": {}}
    assert entry.after == {"name": "Warehouse", "timeout_seconds": 5, "event_types": ["order.*"],
                           "headers": {"Authorization": "••••••••", "X-Shop": "••••••••"}}
    assert "s3cr3t" not in str(entry.after)
    changed = load_endpoint(app, endpoint.id)
    with app.app_context():
        headers = decrypt_headers(changed.headers_encrypted)
    assert (changed.name, changed.timeout_seconds, headers["Authorization"]) == ("Warehouse", 5, "Bearer s3cr3t")


def test_replacing_a_header_value_is_audited_without_the_value(app, make_endpoint):
    endpoint = make_endpoint(headers={"X-Auth": "old-secret-1"})
    with app.app_context():
        update_endpoint(endpoint.id, {"headers": {"X-Auth": "new-secret-2"}}, actor=ADMIN)
        entry = db.session.query(AuditEntry).filter_by(action="endpoint.update").one()
    assert entry.after == {"header_values_replaced": ["X-Auth"]} and entry.before == {}
    assert "secret-" not in str([entry.before, entry.after, entry.summary])


@pytest.mark.parametrize(("changes", "message"), [
    ({"url": "ftp://x"}, "http:// or https://"),
    ({"url": "http://10.1.2.3/hook"}, "WEBHOOK_ALLOWED_NETWORKS"),
    ({"headers": {"Host": "evil"}}, "cannot be overridden"),
    ({"headers": {"Content-Length": "1"}}, "cannot be overridden"),
    ({"headers": {"webhook-id": "x"}}, "cannot be overridden"),
    ({"headers": {"X-Bad": "a\r\nInjected: 1"}}, "one line"),
    ({"headers": {"X-Bad": "a\x00b"}}, "one line"),
    ({"headers": {"X-Bad": "caf\u00e9"}}, "printable ASCII"),
    ({"headers": {"X-Bad": "x" * 4097}}, "at most 4096"),
    ({"headers": {"X-Auth": "••••••••"}}, "give X-Auth a value"),
    ({"name": "a\x00b"}, "control characters"),
    ({"description": "a\x00b"}, "control characters"),
    ({"headers": {"bad name": "x"}}, "not a valid header name"),
    ({"timeout_seconds": 31}, "from 1 to 30"),
    ({"max_attempts": 0}, "from 1 to 50"),
    ({"retry_schedule": []}, "retry_schedule"),
    ({"retry_schedule": [5, -1]}, "retry_schedule"),
    ({"rate_limit_per_second": 0}, "rate_limit_per_second"),
    ({"signing": "rot13"}, "signing"),
    ({"colour": "red"}, "unknown endpoint settings"),
    ({"name": "ok", "timeout_seconds": 99}, "timeout_seconds"),  # nothing applies, not even the name
])
def test_bad_changes_change_nothing(app, make_endpoint, changes, message):
    endpoint = make_endpoint(name="Shop")
    with app.app_context():
        with pytest.raises(InvalidInput, match=message):
            update_endpoint(endpoint.id, changes, actor=ADMIN)
        assert db.session.query(AuditEntry).filter_by(action="endpoint.update").count() == 0
    unchanged = load_endpoint(app, endpoint.id)
    assert (unchanged.name, unchanged.timeout_seconds, unchanged.headers_encrypted) == ("Shop", 10, {})


def test_custom_headers_are_sent_and_masked_in_the_record(app, make_endpoint, receiver):
    endpoint = make_endpoint(headers={"Authorization": "Bearer s3cr3t", "X-Shop": "7"})
    _, (delivery_id,) = send(app)
    with app.app_context():
        attempt_delivery(delivery_id)
    sent = receiver.requests[0].headers
    assert sent["Authorization"] == "Bearer s3cr3t" and sent["X-Shop"] == "7"
    recorded = load(app, delivery_id).attempts_list[0].request_headers
    assert recorded["Authorization"] == "••••••••" and recorded["X-Shop"] == "••••••••"
    assert recorded["webhook-signature"] == "••••••••" and recorded["webhook-id"] == sent["webhook-id"]
    assert endpoint.secret not in str(recorded)


def test_an_endpoint_retry_schedule_overrides_the_default(app, make_endpoint, receiver):
    make_endpoint(retry_schedule=[3600])
    receiver.reply(Reply(500))
    _, (delivery_id,) = send(app)
    with app.app_context():
        attempt = attempt_delivery(delivery_id)
        assert 3500 < (attempt.next_attempt_at - attempt.started_at).total_seconds() < 3700


def test_pause_holds_deliveries_and_resume_sends_them(app, make_endpoint, receiver, broker, worker):
    endpoint = make_endpoint()
    with app.app_context():
        set_state(endpoint.id, "paused", actor=ADMIN, reason="receiver maintenance")
    ids = [send(app)[1][0] for _ in range(3)]
    broker.join("webhooks")
    worker.join()
    assert receiver.requests == [] and all(load(app, i).status is DeliveryStatus.PENDING for i in ids)
    with app.app_context():
        set_state(endpoint.id, "enabled", actor=ADMIN)
    broker.join("jobs")
    broker.join("webhooks")
    worker.join()
    assert all(load(app, i).status is DeliveryStatus.SUCCEEDED for i in ids)
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEntry).filter_by(target_type="endpoint")]
    assert actions == ["endpoint.create", "endpoint.pause", "endpoint.resume"]


def test_a_paused_endpoint_still_receives_new_deliveries_a_disabled_one_does_not(app, make_endpoint):
    paused, disabled = make_endpoint(), make_endpoint()
    with app.app_context():
        set_state(paused.id, "paused", actor=ADMIN)
        set_state(disabled.id, "disabled", actor=ADMIN, reason="retired")
    _, ids = send(app)
    with app.app_context():
        assert [db.session.get(Delivery, i).endpoint_id for i in ids] == [paused.id]


def test_delete_is_refused_while_deliveries_wait_unless_forced(app, make_endpoint):
    endpoint = make_endpoint()
    _, (delivery_id,) = send(app)
    with app.app_context():
        with pytest.raises(IllegalTransition, match="1 pending deliveries"):
            delete_endpoint(endpoint.id, actor=ADMIN)
        assert delete_endpoint(endpoint.id, actor=ADMIN, force=True) == 1
        with pytest.raises(NotFound):
            update_endpoint(endpoint.id, {"name": "x"}, actor=ADMIN)
    assert load(app, delivery_id).status is DeliveryStatus.CANCELLED  # history kept, nothing sent
    assert load_endpoint(app, endpoint.id).state is EndpointState.DISABLED
    _, ids = send(app)
    assert ids == []  # a deleted endpoint receives nothing


def test_a_rate_limited_delivery_waits_without_using_an_attempt(app, make_endpoint, receiver, broker, worker,
                                                                monkeypatch):
    from collections import Counter

    from tests.support.grants import recording_grants

    grants = recording_grants(monkeypatch)
    make_endpoint(rate_limit_per_second=2)
    ids = [send(app)[1][0] for _ in range(6)]
    wait_until(lambda: all(load(app, i).status is DeliveryStatus.SUCCEEDED for i in ids), timeout=20)
    per_second = Counter(second for second in grants if second is not None)
    assert len(grants) >= 6 and max(per_second.values()) <= 2, per_second  # the limit counts per second
    assert [load(app, i).attempt_count for i in ids] == [1] * 6
