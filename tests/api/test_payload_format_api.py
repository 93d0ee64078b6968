"""Payload formats through the API: settings checked and audited, and the preview."""

import json

import pytest

from app.extensions import db
from app.models import AuditEntry, Endpoint
from tests.support.factories import load_endpoint

TEMPLATE = '{"order_ref": {{ data.order | tojson }}, "event": {{ type | tojson }}}'
EVENT = {"event_type": "order.created", "payload": {"order": {"id": 1001}}, "reference": "#1001", "tags": ["QR1"]}


def create(client, auth, receiver, **fields):
    response = client.post("/api/v1/endpoints", headers=auth, json={"url": receiver.url(), **fields})
    assert response.status_code == 201, response.json
    return response.json


def preview(client, auth, endpoint_id, event=EVENT):
    return client.post(f"/api/v1/endpoints/{endpoint_id}/preview", headers=auth, json=event)


def test_preview_shows_the_body_and_content_type_the_template_makes(client, auth, receiver):
    endpoint = create(client, auth, receiver, payload_format="template", payload_template=TEMPLATE)
    assert (endpoint["payload_format"], endpoint["payload_template"], endpoint["payload_content_type"]) == (
        "template", TEMPLATE, "application/json")
    response = preview(client, auth, endpoint["id"])
    assert response.status_code == 200
    assert response.json == {"body": '{"order_ref": {"id": 1001}, "event": "order.created"}',
                             "content_type": "application/json"}


def test_preview_of_a_preset_and_of_the_standard_format(client, auth, receiver):
    zapier = create(client, auth, receiver, payload_format="zapier",
                    payload_content_type="application/x-www-form-urlencoded")
    response = preview(client, auth, zapier["id"])
    assert response.json["content_type"] == "application/x-www-form-urlencoded"
    assert "data__order__id=1001" in response.json["body"] and "tags=QR1" in response.json["body"]
    standard = create(client, auth, receiver)
    assert preview(client, auth, standard["id"]).json == {"body": '{"order":{"id":1001}}',
                                                          "content_type": "application/json"}


def test_preview_says_why_the_template_fails_for_the_payload(client, auth, receiver):
    endpoint = create(client, auth, receiver, payload_format="template", payload_template=TEMPLATE)
    response = preview(client, auth, endpoint["id"], {"event_type": "refund.created", "payload": {"refund": 1}})
    assert response.status_code == 422
    assert response.json["error"] == "payload format template: 'dict object' has no attribute 'order'"
    assert preview(client, auth, endpoint["id"], {"event_type": "bad type", "payload": {}}).status_code == 422
    assert preview(client, auth, "ep_missing").status_code == 404


@pytest.mark.parametrize(("fields", "message"), [
    ({"payload_format": "template", "payload_template": "{{ data.order"}, "payload_template: line 1"),
    ({"payload_format": "template", "payload_template": "{{ ''.__class__ }}"}, "may not read '__class__'"),
    ({"payload_format": "template"}, "the template format needs a template"),
    ({"payload_content_type": "application/x-www-form-urlencoded"}, "the standard format sends the payload as JSON"),
    ({"payload_format": "xml"}, "payload_format"),
])
def test_a_bad_payload_setting_is_refused_and_nothing_is_written(app, client, auth, receiver, fields, message):
    response = client.post("/api/v1/endpoints", headers=auth, json={"url": receiver.url(), **fields})
    assert response.status_code == 422 and message in json.dumps(response.json)
    endpoint = create(client, auth, receiver, name="kept")
    response = client.patch(f"/api/v1/endpoints/{endpoint['id']}", headers=auth, json={"name": "changed", **fields})
    assert response.status_code == 422 and message in json.dumps(response.json)
    assert load_endpoint(app, endpoint["id"]).name == "kept"
    with app.app_context():
        assert db.session.query(Endpoint).count() == 1
        assert db.session.query(AuditEntry).filter_by(action="endpoint.update").count() == 0


def test_a_format_change_is_audited_with_before_and_after(app, client, auth, receiver):
    endpoint = create(client, auth, receiver)
    response = client.patch(f"/api/v1/endpoints/{endpoint['id']}", headers=auth,
                            json={"payload_format": "template", "payload_template": TEMPLATE})
    assert response.status_code == 200
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="endpoint.update").one()
    assert entry.before == {"payload_format": "standard", "payload_template": None}
    assert entry.after == {"payload_format": "template", "payload_template": TEMPLATE}


def test_openapi_documents_the_formats_and_the_preview(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/endpoints/{id}/preview"]["post"]
    assert operation["operationId"] == "previewEndpointPayload" and "422" in operation["responses"]
    settings = spec["components"]["schemas"]["EndpointIn"]["properties"]
    assert {"payload_format", "payload_content_type", "payload_template"} <= set(settings)
    assert {"body", "content_type"} <= set(spec["components"]["schemas"]["PreviewOut"]["properties"])
