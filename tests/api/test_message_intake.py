"""What POST /api/v1/messages and /messages/batch accept, refuse and answer: all or nothing per message."""

import json

import pytest
from sqlalchemy import event

from app.api.schemas import MessageBatchOut, MessageOut
from app.extensions import db
from app.models import Delivery, Message
from tasks.broker import broker as _broker
from tests.support.factories import queued_messages


def raw_post(client, auth, text, path="/api/v1/messages"):
    return client.post(path, headers={**auth, "Content-Type": "application/json"}, data=text.encode())


def nested(depth):
    return "{" + '"a":{' * (depth - 1) + "}" * depth


@pytest.mark.parametrize(("text", "status", "field"), [
    ('{"event_type":"a.b","payload":{"x":NaN}}', 422, "payload"),
    ('{"event_type":"a.b","payload":{"x":-Infinity}}', 422, "payload"),
    ('{"event_type":"a.b","payload":{"x":"\\ud800"}}', 422, "payload"),
    ('{"event_type":"a.b","payload":{},"reference":"\\ud800"}', 422, "reference"),
    ('{"event_type":"a.b","payload":{},"reference":"#1\\u0000"}', 422, "reference"),
    ('{"event_type":"a.b","payload":{},"tags":["QR\\u0000"]}', 422, "tags"),
    ('{"event_type":"a.b","payload":{},"tags":["line\\nbreak"]}', 422, "tags"),
    ('{"event_type":"a.b\\u0000","payload":{}}', 422, "event_type"),
    ('{"event_type":"order.created\\n","payload":{}}', 422, "event_type"),
    ('{"event_type":"a.b","payload":' + nested(100) + "}", 422, "payload"),
    ('{"event_type":"a.b","payload":' + nested(5000) + "}", 400, None),
])
def test_what_cannot_be_stored_signed_or_shown_back_is_refused_up_front(app, client, auth, make_endpoint, text,
                                                                          status, field):
    make_endpoint()
    response = raw_post(client, auth, text)
    assert response.status_code == status and response.json.get("field") == field, response.json
    with app.app_context():
        assert db.session.query(Message).count() == 0


def test_an_endpoint_filter_with_a_trailing_newline_is_refused(client, auth, receiver):
    response = client.post("/api/v1/endpoints", headers=auth,
                           json={"url": receiver.url(), "event_types": ["order.*\n"]})
    assert response.status_code == 422 and response.json["field"] == "event_types"


def test_the_answer_is_built_from_what_was_written_without_reading_after_commit(app, client, auth, make_endpoint):
    make_endpoint()
    with app.app_context():
        engine = db.engine
    seen = []

    def statement(*args):
        seen.append("statement")

    def commit(*args):
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        response = client.post("/api/v1/messages", headers=auth, json={
            "event_type": "order.created", "payload": {"order": 1}, "reference": "#1", "tags": ["QR1"]})
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    assert response.status_code == 202
    assert seen[-1] == "COMMIT", seen  # a failure after the commit cannot turn an accepted message into a 500
    body = response.json
    MessageOut.model_validate(body)  # the documented shape
    assert (body["payload"], body["reference"], body["tags"]) == ({"order": 1}, "#1", ["QR1"])
    assert [d["status"] for d in body["deliveries"]] == ["pending"]


def test_a_batch_accepts_each_valid_message_and_refuses_each_invalid_one(app, client, auth, make_endpoint):
    make_endpoint()
    _broker.flush_all()
    items = [{"event_type": "order.created", "payload": {"n": n}} for n in range(30)]
    items[3] = {"event_type": "not valid", "payload": {}}
    items[8] = {"event_type": "order.created", "payload": {"n": 8}, "surprise": 1}
    items[9] = "not an object"
    response = client.post("/api/v1/messages/batch", headers=auth, json={"messages": items})
    assert response.status_code == 202
    answers = MessageBatchOut.model_validate(response.json).model_dump(exclude_none=True)["messages"]
    assert [a["index"] for a in answers] == list(range(30))
    refused = {a["index"]: (a["status"], a["field"]) for a in answers if "error" in a}
    assert refused == {3: (422, "event_type"), 8: (422, "surprise"), 9: (422, "messages")}
    accepted = [a for a in answers if "id" in a]
    assert len(accepted) == 27 and all(a["created"] and len(a["deliveries"]) == 1 for a in accepted)
    with app.app_context():
        assert db.session.query(Message).count() == 27 and db.session.query(Delivery).count() == 27
    carried = queued_messages(_broker)
    assert sorted(i for ids in carried for i in ids) == sorted(a["deliveries"][0]["id"] for a in accepted)
    assert len(carried) < 27  # the deliveries of one call are woken in batches, not one message each


def test_a_batch_replays_a_known_key_and_refuses_a_reused_one(app, client, auth, make_endpoint):
    make_endpoint()
    first = client.post("/api/v1/messages", headers=auth,
                        json={"event_type": "a.b", "payload": {"n": 1}, "idempotency_key": "k1"}).json
    response = client.post("/api/v1/messages/batch", headers=auth, json={"messages": [
        {"event_type": "a.b", "payload": {"n": 1}, "idempotency_key": "k1"},
        {"event_type": "a.b", "payload": {"n": 2}, "idempotency_key": "k1"},
        {"event_type": "a.b", "payload": {"n": 3}, "idempotency_key": "k2"},
        {"event_type": "a.b", "payload": {"n": 3}, "idempotency_key": "k2"},
    ]})
    replay, reused, fresh, again = response.json["messages"]
    assert (replay["id"], replay["created"]) == (first["id"], False)
    assert reused["status"] == 409 and reused["field"] == "idempotency_key"
    assert fresh["created"] and (again["id"], again["created"]) == (fresh["id"], False)
    with app.app_context():
        assert db.session.query(Message).count() == 2


@pytest.mark.parametrize("body", [{}, {"messages": []}, {"messages": {}}, {"messages": [{}] * 501},
                                  {"messages": [{"event_type": "a.b", "payload": {}}], "extra": 1}])
def test_a_malformed_batch_is_refused_whole(app, client, auth, body):
    response = client.post("/api/v1/messages/batch", headers=auth, json=body)
    assert response.status_code == 422 and response.json["field"] == "messages"


def test_a_batch_in_which_nothing_is_accepted_is_422(app, client, auth):
    response = client.post("/api/v1/messages/batch", headers=auth, json={"messages": [{"event_type": "x"}]})
    assert response.status_code == 422
    assert json.loads(response.data)["messages"][0]["field"] == "payload"
