"""ordering_key on POST /messages and the batch call; ordering_failure on endpoints."""

from app.extensions import db
from app.models import Delivery, Message, OrderingKey


def post(client, auth, path="/api/v1/messages", **fields):
    return client.post(path, headers=auth, json=fields)


def message(**fields):
    return {"event_type": "order.created", "payload": {"n": 1}, **fields}


def test_a_message_with_an_ordering_key_is_numbered_in_its_key(client, auth, make_endpoint):
    make_endpoint()
    first = post(client, auth, **message(ordering_key="order-1001"))
    second = post(client, auth, **message(ordering_key="order-1001"))
    other = post(client, auth, **message(ordering_key="order-1002"))
    plain = post(client, auth, **message())
    assert {first.status_code, second.status_code, other.status_code, plain.status_code} == {202}
    assert [(r.json["ordering_key"], r.json["ordering_sequence"]) for r in (first, second, other, plain)] == [
        ("order-1001", 1), ("order-1001", 2), ("order-1002", 1), (None, None)]
    shown = client.get(f"/api/v1/messages/{second.json['id']}", headers=auth).json
    assert (shown["ordering_key"], shown["ordering_sequence"]) == ("order-1001", 2)


def test_the_batch_call_numbers_a_keys_messages_in_the_batchs_order(client, auth, make_endpoint):
    make_endpoint()
    post(client, auth, **message(ordering_key="k"))
    response = post(client, auth, "/api/v1/messages/batch", messages=[
        message(ordering_key="k"), message(ordering_key="j"), message(ordering_key="k"), message()])
    assert response.status_code == 202
    assert [m["ordering_sequence"] for m in response.json["messages"]] == [2, 1, 3, None]


def test_an_ordering_key_over_200_characters_is_refused_and_nothing_is_written(app, client, auth, make_endpoint):
    make_endpoint()
    response = post(client, auth, **message(ordering_key="k" * 201))
    assert response.status_code == 422
    assert response.json["field"] == "ordering_key" and "200" in response.json["error"], response.json
    assert post(client, auth, **message(ordering_key="")).status_code == 422
    with app.app_context():
        assert db.session.query(Message).count() == db.session.query(Delivery).count() == 0
        assert db.session.query(OrderingKey).count() == 0


def test_an_endpoints_ordering_failure_is_shown_and_changed(client, auth):
    created = post(client, auth, "/api/v1/endpoints", url="https://example.com/hook")
    assert created.status_code == 201 and created.json["ordering_failure"] == "hold"  # the default
    changed = client.patch(f"/api/v1/endpoints/{created.json['id']}", headers=auth, json={"ordering_failure": "skip"})
    assert changed.status_code == 200 and changed.json["ordering_failure"] == "skip"
    refused = client.patch(f"/api/v1/endpoints/{created.json['id']}", headers=auth, json={"ordering_failure": "drop"})
    assert refused.status_code == 422
