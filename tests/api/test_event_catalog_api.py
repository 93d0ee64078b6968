"""The event catalog over the API, and intake holding catalogued messages to their schema: a refused payload names
the field and the rule, and nothing of it is written."""

import pytest

from app.delivery import catalog_rules
from app.delivery.messages import send_message
from app.errors import InvalidInput
from app.extensions import db
from app.models import AuditEntry, Delivery, EventType, Message
from tests.api.test_scopes import key_with
from tests.support.factories import queued_messages, send

QR = "^[A-Z]{4}[0-9]{4}$"
SCHEMA = {"type": "object", "required": ["qr_code"],
          "properties": {"qr_code": {"type": "string", "pattern": QR}, "order": {"type": "integer"}}}
DEFINITION = {"description": "A QR code was scanned at the warehouse", "schema": SCHEMA,
              "example": {"qr_code": "ABCD1234", "order": 1001}}


def put(client, auth, name="qr.scanned", body=None):
    return client.put(f"/api/v1/event-types/{name}", headers=auth, json=DEFINITION if body is None else body)


def counts(app):
    with app.app_context():
        return db.session.query(Message).count(), db.session.query(Delivery).count()


def test_an_event_type_is_added_changed_read_and_removed_with_every_change_audited(app, client, auth):
    created = put(client, auth)
    assert created.status_code == 201, created.json
    assert created.json["schema"] == SCHEMA and created.json["version"] == 1 and created.json["deprecated"] is False
    assert put(client, auth).json["version"] == 1  # the same definition again changes nothing
    changed = put(client, auth, body={**DEFINITION, "deprecated": True})
    assert changed.status_code == 200 and changed.json["version"] == 2 and changed.json["deprecated"] is True
    assert client.get("/api/v1/event-types/qr.scanned", headers=auth).json["example"] == DEFINITION["example"]
    assert [t["name"] for t in client.get("/api/v1/event-types", headers=auth).json["data"]] == ["qr.scanned"]
    assert client.delete("/api/v1/event-types/qr.scanned", headers=auth).json == {"name": "qr.scanned",
                                                                                   "deleted": True}
    assert client.get("/api/v1/event-types/qr.scanned", headers=auth).status_code == 404
    assert client.delete("/api/v1/event-types/qr.scanned", headers=auth).status_code == 404
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)
                   if e.action.startswith("event_type")]
    assert actions == ["event_type.create", "event_type.update", "event_type.delete"]


@pytest.mark.parametrize(("body", "field", "says"), [
    ({"schema": {"type": "objekt"}}, "schema", "not a valid JSON Schema (2020-12) at /type"),
    ({"schema": {"properties": {"a": {"pattern": "(["}}}}, "schema", "/properties/a/pattern"),
    ({"schema": {"$ref": "https://example.com/evil.json"}}, "schema", "$ref must point inside the schema"),
    ({"schema": {"$schema": "http://json-schema.org/draft-07/schema#"}}, "schema", "$schema must be"),
    ({"schema": SCHEMA, "example": {"qr_code": "abcd12"}}, "example",
     "example does not satisfy the schema: payload.qr_code: 'abcd12' does not match"),
    ({"schema": SCHEMA, "example": [1]}, "example", None),
    ({"description": "no schema"}, "schema", None),
])
def test_a_bad_schema_or_an_example_it_refuses_is_422_and_writes_nothing(app, client, auth, body, field, says):
    response = put(client, auth, body=body)
    assert response.status_code == 422 and response.json["field"] == field, response.json
    assert says is None or says in response.json["error"]
    with app.app_context():
        assert db.session.query(EventType).count() == 0
        assert db.session.query(AuditEntry).filter(AuditEntry.target_type == "event_type").count() == 0


def test_a_name_that_is_no_event_type_is_refused(client, auth):
    for name in ("bad name", "inbound.shop.orders"):
        assert put(client, auth, name=name).status_code == 422


def test_a_catalogued_type_refuses_a_bad_qr_code_and_writes_nothing(app, client, auth, make_endpoint, broker):
    make_endpoint()
    put(client, auth)
    refused = client.post("/api/v1/messages", headers=auth,
                          json={"event_type": "qr.scanned", "payload": {"qr_code": "abcd12"}})
    assert refused.status_code == 422
    assert refused.json == {"error": f"payload.qr_code: 'abcd12' does not match '{QR}'", "field": "payload"}
    missing = client.post("/api/v1/messages", headers=auth, json={"event_type": "qr.scanned", "payload": {}})
    assert missing.json["error"] == "payload: 'qr_code' is a required property"
    assert counts(app) == (0, 0) and queued_messages(broker) == []
    accepted = client.post("/api/v1/messages", headers=auth,
                           json={"event_type": "qr.scanned", "payload": {"qr_code": "ABCD1234"}})
    assert accepted.status_code == 202 and counts(app) == (1, 1)
    # a type not in the catalog is accepted unchecked by default
    assert client.post("/api/v1/messages", headers=auth,
                       json={"event_type": "order.created", "payload": {"qr_code": 1}}).status_code == 202


def test_a_batch_refuses_only_the_items_their_schema_refuses(app, client, auth, make_endpoint):
    make_endpoint()
    put(client, auth)
    items = [{"event_type": "qr.scanned", "payload": {"qr_code": "ABCD1234"}},
             {"event_type": "qr.scanned", "payload": {"qr_code": "ABCD1234", "order": "1001"}},
             {"event_type": "order.created", "payload": {"order": 1}}]
    response = client.post("/api/v1/messages/batch", headers=auth, json={"messages": items})
    assert response.status_code == 202
    answers = response.json["messages"]
    assert "id" in answers[0] and "id" in answers[2]
    assert answers[1] == {"index": 1, "error": "payload.order: '1001' is not of type 'integer'", "field": "payload",
                          "status": 422}
    assert counts(app) == (2, 2)
    none = client.post("/api/v1/messages/batch", headers=auth, json={"messages": [items[1]]})
    assert none.status_code == 422 and counts(app) == (2, 2)


def test_types_outside_the_catalog_are_refused_when_the_setting_says_so(app, client, auth, make_endpoint):
    make_endpoint()
    app.config["EVENT_CATALOG_REQUIRED"] = True
    put(client, auth)
    refused = client.post("/api/v1/messages", headers=auth, json={"event_type": "order.created", "payload": {}})
    assert refused.status_code == 422 and refused.json["field"] == "event_type"
    assert "not in the event catalog" in refused.json["error"]
    assert client.post("/api/v1/messages", headers=auth,
                       json={"event_type": "qr.scanned", "payload": {"qr_code": "ABCD1234"}}).status_code == 202
    with app.app_context():  # what Hookyard sends itself is never refused
        send_message("hookyard.smoke", {"smoke": True})
        db.session.commit()
    assert counts(app)[0] == 2


def test_send_message_and_edit_and_resend_hold_the_payload_to_its_schema(app, client, auth, make_endpoint):
    make_endpoint()
    _, (delivery_id,) = send(app, "qr.scanned", {"qr_code": "abcd12"})  # sent before the type was catalogued
    put(client, auth)
    with app.app_context():
        with pytest.raises(InvalidInput, match=r"payload.qr_code: 'abcd12' does not match"):
            send_message("qr.scanned", {"qr_code": "abcd12"})
        db.session.rollback()
    resent = client.post(f"/api/v1/deliveries/{delivery_id}/resend", headers=auth,
                         json={"payload": {"qr_code": "wxyz99"}})
    assert resent.status_code == 422 and "payload.qr_code: 'wxyz99'" in resent.json["error"]
    assert counts(app) == (1, 1)
    fixed = client.post(f"/api/v1/deliveries/{delivery_id}/resend", headers=auth,
                        json={"payload": {"qr_code": "WXYZ9999"}})
    assert fixed.status_code == 202 and counts(app) == (2, 2)


def test_a_schema_is_compiled_once_per_version(app, client, auth, make_endpoint, monkeypatch):
    make_endpoint()
    compiled = []
    real = catalog_rules._compile
    monkeypatch.setattr(catalog_rules, "_compile", lambda schema: compiled.append(schema) or real(schema))
    monkeypatch.setattr(catalog_rules, "_validators", type(catalog_rules._validators)())
    put(client, auth, body={"schema": SCHEMA})

    def post(qr):
        return client.post("/api/v1/messages", headers=auth,
                           json={"event_type": "qr.scanned", "payload": {"qr_code": qr}}).status_code

    assert [post("ABCD1234"), post("ABCD1234"), post("abcd12")] == [202, 202, 422]
    assert len(compiled) == 1
    lower = {**SCHEMA, "properties": {"qr_code": {"type": "string", "pattern": "^[a-z]{4}[0-9]{2}$"}}}
    put(client, auth, body={"schema": lower})
    assert [post("abcd12"), post("ABCD1234")] == [202, 422]  # the new version, never the cached old one
    assert len(compiled) == 2
    assert len(catalog_rules._validators) == 2 and {name for name, _ in catalog_rules._validators} == {"qr.scanned"}


def test_a_type_removed_and_added_again_is_never_checked_with_its_old_schema(app, client, auth, make_endpoint):
    make_endpoint()
    put(client, auth, body={"schema": SCHEMA})
    bad = {"event_type": "qr.scanned", "payload": {"qr_code": "abcd12"}}
    assert client.post("/api/v1/messages", headers=auth, json=bad).status_code == 422
    client.delete("/api/v1/event-types/qr.scanned", headers=auth)
    again = put(client, auth, body={"schema": {"type": "object"}})
    assert again.status_code == 201 and again.json["version"] == 1  # the same version as the first one
    assert client.post("/api/v1/messages", headers=auth, json=bad).status_code == 202


def test_writing_the_catalog_needs_its_scope(app, client, auth):
    reader = key_with(app, "read", "messages:write")
    assert put(client, reader).status_code == 403
    assert put(client, auth).status_code == 201
    assert client.delete("/api/v1/event-types/qr.scanned", headers=reader).status_code == 403
    assert client.get("/api/v1/event-types/qr.scanned", headers=reader).status_code == 200
    writer = key_with(app, "event-types:write")
    assert put(client, writer, body={**DEFINITION, "deprecated": True}).status_code == 200
    with app.app_context():
        assert db.session.get(EventType, "qr.scanned").updated_by == "api:scoped"
