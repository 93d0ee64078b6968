import pytest

from app.credentials import crypto
from app.extensions import db
from app.models import Endpoint


def test_create_endpoint_shows_the_secret_once(app, client, auth, receiver):
    response = client.post("/api/v1/endpoints", headers=auth, json={
        "url": receiver.url(), "name": "OnlyPerf", "event_types": ["order.*"], "timeout_seconds": 5,
    })
    assert response.status_code == 201
    body = response.json
    assert body["secret"].startswith("whsec_")
    assert (body["name"], body["event_types"], body["timeout_seconds"], body["max_attempts"]) == (
        "OnlyPerf", ["order.*"], 5, 8)
    assert (body["signing"], body["state"]) == ("standard", "enabled")

    shown = client.get(f"/api/v1/endpoints/{body['id']}", headers=auth)
    assert shown.status_code == 200 and "secret" not in shown.json
    assert body["secret"] not in shown.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(Endpoint, body["id"])
        assert body["secret"] not in row.secret_encrypted
        assert crypto.decrypt(row.secret_encrypted) == body["secret"]


@pytest.mark.parametrize(("payload", "status", "message"), [
    ({"url": "ftp://example.com"}, 422, "http:// or https://"),
    ({"url": "http://127.0.0.1:1/x"}, 201, None),  # loopback allowed in tests (WEBHOOK_ALLOWED_NETWORKS)
    ({"url": "http://10.0.0.1/x"}, 422, "may not reach"),
    ({"url": "https://example.com", "signing": "rsa"}, 422, "signing"),
    ({"url": "https://example.com", "timeout_seconds": 31}, 422, "less than or equal to 30"),
    ({"url": "https://example.com", "timeout_seconds": 0}, 422, "timeout_seconds"),
    ({"url": "https://example.com", "max_attempts": 0}, 422, "max_attempts"),
    ({"url": "https://example.com", "event_types": ["order..x"]}, 422, "event_types"),
    ({"url": "https://example.com", "colour": "blue"}, 422, "colour"),
    ({}, 422, "url"),
    ({"url": 5}, 422, "url"),
])
def test_endpoint_input_is_validated(app, client, auth, payload, status, message):
    response = client.post("/api/v1/endpoints", headers=auth, json=payload)
    assert response.status_code == status, response.json
    if message:
        assert message in response.json["error"]
        with app.app_context():
            assert db.session.query(Endpoint).count() == 0


def test_malformed_json_is_400(client, auth):
    for body in ("{not json", "[1, 2]"):
        response = client.post("/api/v1/endpoints", headers={**auth, "Content-Type": "application/json"}, data=body)
        assert response.status_code == 400 and "JSON" in response.json["error"]


def test_unknown_endpoint_is_404(client, auth):
    response = client.get("/api/v1/endpoints/ep_missing", headers=auth)
    assert response.status_code == 404 and response.json == {"error": "no endpoint with id ep_missing"}
