from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from app.delivery.attempt.pipeline import attempt_delivery
from app.extensions import db
from app.models import AuditEntry, Delivery, DeliveryStatus, utcnow
from tests.support.factories import load, send, update


def create(client, auth, receiver, **fields):
    response = client.post("/api/v1/endpoints", headers=auth, json={"url": receiver.url(), **fields})
    assert response.status_code == 201, response.json
    return response.json


def test_list_patch_and_read_back(client, auth, receiver):
    made = create(client, auth, receiver, name="Shop", headers={"X-Api-Key": "k-123", "X-Shop": "7"})
    patched = client.patch(f"/api/v1/endpoints/{made['id']}", headers=auth, json={
        "name": "Warehouse", "rate_limit_per_second": 5, "retry_schedule": [10, 60], "description": None})
    assert patched.status_code == 200
    assert (patched.json["name"], patched.json["rate_limit_per_second"], patched.json["retry_schedule"]) == (
        "Warehouse", 5, [10, 60])
    assert patched.json["headers"] == {"X-Api-Key": "••••••••", "X-Shop": "••••••••"}  # values never shown
    assert "k-123" not in client.get(f"/api/v1/endpoints/{made['id']}", headers=auth).get_data(as_text=True)
    listed = client.get("/api/v1/endpoints", headers=auth).json["data"]
    assert [e["name"] for e in listed] == ["Warehouse"] and "secret" not in listed[0]
    cleared = client.patch(f"/api/v1/endpoints/{made['id']}", headers=auth, json={"rate_limit_per_second": None})
    assert cleared.json["rate_limit_per_second"] is None


@pytest.mark.parametrize(("body", "status"), [
    ({"timeout_seconds": 0}, 422), ({"headers": {"Host": "x"}}, 422), ({"state": "asleep"}, 422),
    ({"url": "gopher://x"}, 422), ({"retry_schedule": "fast"}, 422), ({"unknown": 1}, 422),
])
def test_bad_patches_are_refused_and_change_nothing(app, client, auth, receiver, body, status):
    made = create(client, auth, receiver, name="Shop")
    response = client.patch(f"/api/v1/endpoints/{made['id']}", headers=auth, json=body)
    assert response.status_code == status and response.json["error"]
    after = client.get(f"/api/v1/endpoints/{made['id']}", headers=auth).json
    assert (after["name"], after["timeout_seconds"], after["headers"], after["state"]) == ("Shop", 10, {}, "enabled")
    with app.app_context():
        assert db.session.query(AuditEntry).filter_by(action="endpoint.update").count() == 0


def test_pause_and_resume_through_patch(client, auth, receiver):
    made = create(client, auth, receiver)
    paused = client.patch(f"/api/v1/endpoints/{made['id']}", headers=auth,
                          json={"state": "paused", "state_reason": "maintenance"})
    assert (paused.json["state"], paused.json["state_reason"]) == ("paused", "maintenance")
    assert client.patch(f"/api/v1/endpoints/{made['id']}", headers=auth, json={"state": "enabled"}).json[
        "state"] == "enabled"


def test_delete_needs_force_while_deliveries_wait(app, client, auth, receiver):
    made = create(client, auth, receiver)
    send(app)
    refused = client.delete(f"/api/v1/endpoints/{made['id']}", headers=auth)
    assert refused.status_code == 409 and "1 pending deliveries" in refused.json["error"]
    deleted = client.delete(f"/api/v1/endpoints/{made['id']}?force=true", headers=auth)
    assert deleted.json == {"id": made["id"], "deleted": True, "cancelled_deliveries": 1}
    assert client.get(f"/api/v1/endpoints/{made['id']}", headers=auth).status_code == 404
    assert client.delete(f"/api/v1/endpoints/{made['id']}", headers=auth).status_code == 404


def test_rotate_shows_the_new_secret_once_and_both_verify(app, client, auth, receiver):
    made = create(client, auth, receiver)
    rotated = client.post(f"/api/v1/endpoints/{made['id']}/rotate-secret", headers=auth, json={"grace_seconds": 600})
    assert rotated.status_code == 200 and rotated.json["secret"] != made["secret"]
    assert rotated.json["secret"] not in client.get(f"/api/v1/endpoints/{made['id']}", headers=auth).get_data(
        as_text=True)
    _, (delivery_id,) = send(app)
    with app.app_context():
        attempt_delivery(delivery_id)
    request = receiver.requests[0]
    for secret in (made["secret"], rotated.json["secret"]):
        Webhook(secret).verify(request.body, request.headers)
    too_long = client.post(f"/api/v1/endpoints/{made['id']}/rotate-secret", headers=auth,
                           json={"grace_seconds": 8 * 86400})
    assert too_long.status_code == 422


@pytest.mark.parametrize("body", [" ", "\t", "\r\n"])
def test_an_optional_body_of_only_white_space_is_not_json(app, client, auth, receiver, body):
    made = create(client, auth, receiver)
    refused = client.post(f"/api/v1/endpoints/{made['id']}/rotate-secret", data=body,
                          headers={**auth, "Content-Type": "application/json"})
    assert refused.status_code == 400 and "not valid JSON" in refused.json["error"]
    assert client.post(f"/api/v1/endpoints/{made['id']}/rotate-secret", headers=auth).status_code == 200  # no body
    with app.app_context():
        assert db.session.query(AuditEntry).filter_by(action="endpoint.rotate_secret").count() == 1


def test_test_send_goes_now_whatever_the_filter_or_state(app, client, auth, receiver):
    made = create(client, auth, receiver, event_types=["order.*"])
    client.patch(f"/api/v1/endpoints/{made['id']}", headers=auth, json={"state": "paused"})
    response = client.post(f"/api/v1/endpoints/{made['id']}/test", headers=auth)
    assert response.status_code == 202 and response.json["event_type"] == "webhook.test"
    with app.app_context():
        attempt = attempt_delivery(response.json["id"])
        assert (attempt.trigger.value, attempt.triggered_by, attempt.response_status) == ("test", "api:tests", 200)
    Webhook(made["secret"]).verify(receiver.requests[0].body, receiver.requests[0].headers)


def test_recover_counts_then_retries_failed_deliveries_since_a_time(app, client, auth, receiver):
    made = create(client, auth, receiver)
    ids = [send(app)[1][0] for _ in range(3)]
    for delivery_id in ids:
        update(app, Delivery, delivery_id, status=DeliveryStatus.FAILED)
    update(app, Delivery, ids[0], created_at=utcnow() - timedelta(days=2))  # before the window
    since = (utcnow() - timedelta(hours=1)).isoformat()
    preview = client.post(f"/api/v1/endpoints/{made['id']}/recover", headers=auth, json={"since": since,
                                                                                        "dry_run": True})
    assert preview.json == {"count": 2, "job_id": None}
    assert load(app, ids[1]).status is DeliveryStatus.FAILED  # a preview changes nothing
    started = client.post(f"/api/v1/endpoints/{made['id']}/recover", headers=auth, json={"since": since})
    assert started.status_code == 202 and started.json["count"] == 2 and started.json["job_id"].startswith("job_")
    bad = client.post(f"/api/v1/endpoints/{made['id']}/recover", headers=auth, json={"since": "yesterday"})
    assert bad.status_code == 422
