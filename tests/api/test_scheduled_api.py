from datetime import timedelta

from app.extensions import db
from app.models import Delivery, Message, utcnow


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def post(client, auth, **fields):
    return client.post("/api/v1/messages", headers=auth,
                       json={"event_type": "order.created", "payload": {"n": 1}, **fields})


def counts(app):
    with app.app_context():
        return db.session.query(Message).count(), db.session.query(Delivery).count()


def test_a_message_scheduled_through_the_api_shows_its_time(app, client, auth, make_endpoint):
    make_endpoint()
    when = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    answer = post(client, auth, deliver_at=f"{when + timedelta(hours=2):%Y-%m-%dT%H:%M:%S}+02:00")
    assert answer.status_code == 202 and answer.json["deliver_at"] == iso(when)
    shown = client.get(f"/api/v1/messages/{answer.json['id']}", headers=auth).json
    assert shown["deliver_at"] == iso(when)
    (delivery,) = shown["deliveries"]
    detail = client.get(f"/api/v1/deliveries/{delivery['id']}", headers=auth).json
    assert detail["status"] == "pending" and detail["next_attempt_at"] == iso(when)
    assert post(client, auth).json["deliver_at"] is None


def test_a_bad_deliver_at_is_a_422_naming_the_field_and_writes_nothing(app, client, auth, make_endpoint):
    make_endpoint()
    for value, says in (("2030-01-01T09:00:00", "timezone"), ("tomorrow", "datetime"),
                        (iso(utcnow() + timedelta(days=31)), "30 days"), (iso(utcnow() - timedelta(hours=1)), "past")):
        answer = post(client, auth, deliver_at=value)
        assert answer.status_code == 422 and answer.json["field"] == "deliver_at", answer.json
        assert says in answer.json["error"], answer.json
    assert counts(app) == (0, 0)


def test_each_batch_item_may_be_scheduled_and_is_refused_on_its_own(app, client, auth, make_endpoint):
    make_endpoint()
    when = utcnow() + timedelta(hours=1)
    answer = client.post("/api/v1/messages/batch", headers=auth, json={"messages": [
        {"event_type": "order.created", "payload": {"n": 1}, "deliver_at": iso(when)},
        {"event_type": "order.created", "payload": {"n": 2}, "deliver_at": iso(when + timedelta(days=40))},
    ]})
    assert answer.status_code == 202
    first, second = answer.json["messages"]
    assert first["deliver_at"] == iso(when) and second["field"] == "deliver_at" and second["status"] == 422
    assert counts(app) == (1, 1)


def test_the_openapi_document_describes_deliver_at(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert schemas["MessageIn"]["properties"]["deliver_at"]["anyOf"][0]["format"] == "date-time"
    assert "deliver_at" in schemas["MessageOut"]["properties"]
