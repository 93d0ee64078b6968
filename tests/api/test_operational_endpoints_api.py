import pytest

from app.extensions import db
from app.models import AuditEntry, Endpoint


def create(client, auth, **body):
    return client.post("/api/v1/operational-endpoints", headers=auth, json=body)


def test_create_shows_the_secret_once_and_keeps_it_apart_from_partner_endpoints(app, client, auth, receiver):
    response = create(client, auth, url=receiver.url("/ops"), event_types=["delivery.failed", "alert.fired"])
    assert response.status_code == 201
    body = response.json
    assert body["secret"].startswith("whsec_") and body["operational"] is True
    assert body["event_types"] == ["delivery.failed", "alert.fired"]
    shown = client.get(f"/api/v1/operational-endpoints/{body['id']}", headers=auth)
    assert shown.status_code == 200 and "secret" not in shown.json
    assert body["secret"] not in shown.get_data(as_text=True)
    listed = client.get("/api/v1/operational-endpoints", headers=auth).json["data"]
    assert [e["id"] for e in listed] == [body["id"]] and "secret" not in listed[0]
    assert client.get("/api/v1/endpoints", headers=auth).json["data"] == []  # partner traffic never sees it
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="endpoint.create").one()
        assert "operational endpoint" in entry.summary and body["secret"] not in str(entry.after)


@pytest.mark.parametrize(("payload", "message"), [
    ({"url": "ftp://example.com/ops"}, "http:// or https://"),
    ({"event_types": ["delivery.failed"]}, "url"),
    ({"url": "http://127.0.0.1:1/ops", "event_types": ["order.created"]}, "event_types"),
    ({"url": "http://127.0.0.1:1/ops", "event_types": []}, "event_types"),
    ({"url": "http://127.0.0.1:1/ops", "signing": "hmac-sha256"}, "signing"),
])
def test_bad_input_is_422_and_creates_nothing(app, client, auth, payload, message):
    response = create(client, auth, **payload)
    assert response.status_code == 422, response.json
    assert message in str(response.json)
    with app.app_context():
        assert db.session.query(Endpoint).count() == 0


def test_change_rotate_and_delete(app, client, auth, receiver):
    created = create(client, auth, url=receiver.url("/ops")).json
    path = f"/api/v1/operational-endpoints/{created['id']}"
    changed = client.patch(path, headers=auth, json={"event_types": ["endpoint.failing"], "alert_on_failure": True})
    assert changed.status_code == 200
    assert changed.json["event_types"] == ["endpoint.failing"] and changed.json["alert_on_failure"] is True
    assert client.patch(path, headers=auth, json={"event_types": ["nope"]}).status_code == 422
    rotated = client.post(f"{path}/rotate-secret", headers=auth, json={"grace_seconds": 0})
    assert rotated.status_code == 200 and rotated.json["secret"] not in (created["secret"], None)
    deleted = client.delete(path, headers=auth)
    assert deleted.status_code == 200 and deleted.json["deleted"] is True
    assert client.get(path, headers=auth).status_code == 404


def test_unknown_and_partner_ids_are_404(client, auth, make_endpoint):
    partner = make_endpoint()
    for endpoint_id in ("ep_nothing", partner.id):
        path = f"/api/v1/operational-endpoints/{endpoint_id}"
        assert client.get(path, headers=auth).status_code == 404
        assert client.patch(path, headers=auth, json={"name": "x"}).status_code == 404
        assert client.delete(path, headers=auth).status_code == 404
        assert client.post(f"{path}/rotate-secret", headers=auth, json={}).status_code == 404


def test_the_event_catalog_lists_every_operational_event(client, auth):
    names = [e["name"] for e in client.get("/api/v1/operational-event-types", headers=auth).json["data"]]
    assert {"delivery.succeeded", "delivery.failed", "endpoint.failing", "endpoint.disabled", "endpoint.recovered",
            "inbound.failed", "alert.fired", "alert.resolved"} == set(names)
