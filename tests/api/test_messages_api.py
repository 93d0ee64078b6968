import pytest

from app.extensions import db
from app.models import Delivery, Message
from tasks.broker import queue_depth


def post_message(client, auth, **fields):
    return client.post("/api/v1/messages", headers=auth, json={"event_type": "order.created", "payload": {"n": 1},
                                                               **fields})


def test_message_fans_out_and_is_readable(client, auth, make_endpoint):
    first, second = make_endpoint(), make_endpoint(event_types=["invoice.*"])
    response = post_message(client, auth, reference="#1001", tags=["QR1"])
    assert response.status_code == 202
    body = response.json
    assert body["id"].startswith("msg_") and body["payload"] == {"n": 1}
    assert [(d["endpoint_id"], d["status"]) for d in body["deliveries"]] == [(first.id, "pending")]
    assert second.id not in str(body)
    assert queue_depth() == 1
    shown = client.get(f"/api/v1/messages/{body['id']}", headers=auth).json
    assert (shown["reference"], shown["tags"], shown["event_type"]) == ("#1001", ["QR1"], "order.created")


@pytest.mark.parametrize("use_header", [False, True])
def test_same_idempotency_key_returns_the_first_message(app, client, auth, make_endpoint, use_header):
    make_endpoint()
    extra = {"headers": {**auth, "Idempotency-Key": "k-1"}} if use_header else {"headers": auth}
    fields = {} if use_header else {"idempotency_key": "k-1"}
    body = {"event_type": "order.created", "payload": {"n": 1}, **fields}
    first = client.post("/api/v1/messages", json=body, **extra)
    again = client.post("/api/v1/messages", json=body, **extra)
    assert first.status_code == again.status_code == 202
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    with app.app_context():
        assert db.session.query(Message).count() == 1 and db.session.query(Delivery).count() == 1


def test_the_same_key_for_a_different_message_is_409_and_creates_nothing(app, client, auth, make_endpoint):
    make_endpoint()
    body = {"event_type": "order.created", "payload": {"n": 1}, "idempotency_key": "k-1"}
    first = client.post("/api/v1/messages", json=body, headers=auth)
    other = client.post("/api/v1/messages", json={**body, "payload": {"n": 2}, "reference": "#2"}, headers=auth)
    assert other.status_code == 409 and other.json["field"] == "idempotency_key"
    assert f"already used for message {first.json['id']}, whose payload, reference differ" in other.json["error"]
    with app.app_context():
        assert db.session.query(Message).count() == 1 and db.session.query(Delivery).count() == 1


def test_any_json_payload_is_answered_and_stored_as_sent(app, client, auth, make_endpoint):
    make_endpoint()
    payload = {"big": 2 ** 70, "text": "Đơn hàng 💥", "ratio": 0.1, "nested": [{"a": None}]}
    single = post_message(client, auth, payload=payload, reference="Đơn #1", tags=["mã QR"])  # keys sorted
    batch = client.post("/api/v1/messages/batch", headers=auth,
                        json={"messages": [{"event_type": "order.created", "payload": payload}]})
    assert single.status_code == batch.status_code == 202
    assert single.json["payload"] == batch.json["messages"][0]["payload"] == payload
    assert (single.json["reference"], single.json["tags"]) == ("Đơn #1", ["mã QR"])
    with app.app_context():
        stored = db.session.get(Message, single.json["id"])
        assert (stored.payload, stored.reference) == (
            '{"big":1180591620717411303424,"nested":[{"a":null}],"ratio":0.1,"text":"Đơn hàng 💥"}', "Đơn #1")


def test_header_and_body_keys_must_agree(client, auth):
    response = client.post("/api/v1/messages", headers={**auth, "Idempotency-Key": "a"},
                           json={"event_type": "x.y", "payload": {}, "idempotency_key": "b"})
    assert response.status_code == 422


def test_payload_over_the_limit_is_413(app, client, auth, make_endpoint):
    make_endpoint()
    app.config["WEBHOOK_MAX_PAYLOAD_BYTES"] = 2048
    response = post_message(client, auth, payload={"blob": "x" * 4096})
    assert response.status_code == 413 and "limit is 2048 bytes" in response.json["error"]
    huge = client.post("/api/v1/messages", headers={**auth, "Content-Type": "application/json"},
                       data=b'{"event_type":"x","payload":{"b":"' + b"x" * 400_000 + b'"}}')
    assert huge.status_code == 413
    with app.app_context():
        assert db.session.query(Message).count() == 0


@pytest.mark.parametrize(("fields", "status", "field"), [
    ({"event_type": "not valid"}, 422, "event_type"),
    ({"payload": [1]}, 422, "payload"),
    ({"payload": None}, 422, "payload"),
    ({"tags": [1]}, 422, "tags"),
    ({"endpoint_ids": ["ep_nope"]}, 422, "endpoint_ids"),
    ({"surprise": 1}, 422, "surprise"),
    ({"idempotency_key": {}}, 422, "idempotency_key"),  # an empty key of any kind is not "no key"
    ({"idempotency_key": ""}, 422, "idempotency_key"),
    ({"idempotency_key": 0}, 422, "idempotency_key"),
    ({"idempotency_key": False}, 422, "idempotency_key"),
])
def test_invalid_messages_are_422_and_create_nothing(app, client, auth, make_endpoint, fields, status, field):
    make_endpoint()
    response = post_message(client, auth, **fields)
    assert response.status_code == status
    assert response.json["field"] == field
    with app.app_context():
        assert db.session.query(Message).count() == 0
    assert queue_depth() == 0


def test_unknown_message_is_404(client, auth):
    assert client.get("/api/v1/messages/msg_nope", headers=auth).status_code == 404
