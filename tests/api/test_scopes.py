"""Scoped API keys: a key does only what its scopes allow; keys made before scopes keep full access."""

import pytest

from app.auth.api_keys import create_api_key
from app.extensions import db
from app.models import ApiKey, AuditEntry, Endpoint, InboundSource, Message
from tests.support.factories import send


def key_with(app, *scopes):
    with app.app_context():
        _, key = create_api_key("scoped", list(scopes))
    return {"Authorization": f"Bearer {key}"}


def test_a_key_without_endpoints_write_cannot_change_endpoints(app, client, make_endpoint, receiver):
    endpoint = make_endpoint(name="Shop")
    auth = key_with(app, "read", "messages:write")
    attempts = [
        client.post("/api/v1/endpoints", headers=auth, json={"url": receiver.url()}),
        client.patch(f"/api/v1/endpoints/{endpoint.id}", headers=auth, json={"name": "Taken over"}),
        client.delete(f"/api/v1/endpoints/{endpoint.id}", headers=auth),
        client.post(f"/api/v1/endpoints/{endpoint.id}/rotate-secret", headers=auth, json={}),
        client.post(f"/api/v1/endpoints/{endpoint.id}/test", headers=auth),
    ]
    assert [r.status_code for r in attempts] == [403] * 5
    assert "endpoints:write" in attempts[0].json["error"]
    with app.app_context():
        assert [(e.name, e.deleted_at) for e in db.session.query(Endpoint)] == [("Shop", None)]
        assert db.session.query(Message).count() == 0
    # what the key may do, it does
    assert client.get(f"/api/v1/endpoints/{endpoint.id}", headers=auth).status_code == 200
    assert client.post("/api/v1/messages", headers=auth,
                       json={"event_type": "order.created", "payload": {}}).status_code == 202


def test_a_read_only_key_can_read_and_nothing_else(app, client, make_endpoint):
    make_endpoint()
    _, (delivery_id,) = send(app)
    auth = key_with(app, "read")
    assert client.get("/api/v1/deliveries", headers=auth).status_code == 200
    assert client.get("/api/v1/stats", headers=auth).status_code == 200
    assert client.post("/api/v1/messages", headers=auth, json={"event_type": "a.b", "payload": {}}).status_code == 403
    assert client.post(f"/api/v1/deliveries/{delivery_id}/cancel", headers=auth).status_code == 403


def test_keys_made_before_scopes_keep_full_access(app, client, receiver):
    with app.app_context():
        _, key = create_api_key("legacy")
        assert db.session.query(ApiKey).one().scopes is None  # as the migration leaves existing keys
    response = client.post("/api/v1/endpoints", headers={"Authorization": f"Bearer {key}"},
                           json={"url": receiver.url()})
    assert response.status_code == 201


def test_every_api_route_names_its_scope(app):
    views = {rule.endpoint: app.view_functions[rule.endpoint] for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"}
    assert views and not [name for name, view in views.items() if not hasattr(view, "required_scope")]


def test_the_contract_documents_each_operation_scope(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert paths["/endpoints"]["post"]["security"] == [{"bearer": ["endpoints:write"]}]
    assert paths["/deliveries"]["get"]["security"] == [{"bearer": ["read"]}]
    assert "403" in paths["/messages"]["post"]["responses"]


@pytest.mark.parametrize("scopes", [["admin"], []])
def test_unknown_or_empty_scopes_are_refused(app, scopes):
    from app.errors import InvalidInput

    with app.app_context():
        with pytest.raises(InvalidInput, match="scopes must be some of"):
            create_api_key("bad", scopes)
        assert db.session.query(AuditEntry).count() == 0


def test_forwarding_needs_messages_write_beside_inbound_write(app, client):
    inbound_only = key_with(app, "read", "inbound:write")
    source = {"name": "order", "provider": "shopify", "secret": "shpss_attacker-chosen-secret"}

    refused = client.post("/api/v1/inbound-sources", headers=inbound_only, json={**source, "forward": True})
    assert refused.status_code == 403 and "messages:write" in refused.json["error"]
    made = client.post("/api/v1/inbound-sources", headers=inbound_only, json=source)
    assert made.status_code == 201
    turned_on = client.patch(f"/api/v1/inbound-sources/{made.json['id']}", headers=inbound_only, json={"forward": True})
    assert turned_on.status_code == 403 and "messages:write" in turned_on.json["error"]
    with app.app_context():
        assert db.session.query(InboundSource).one().forward is False

    both = key_with(app, "inbound:write", "messages:write")
    assert client.patch(f"/api/v1/inbound-sources/{made.json['id']}", headers=both,
                        json={"forward": True}).json["forward"] is True
    # whoever holds a forwarding source's secret can have messages sent: rotating it needs messages:write too
    rotate = f"/api/v1/inbound-sources/{made.json['id']}/rotate-secret"
    assert client.post(rotate, headers=inbound_only, json={"secret": "shpss_another-secret"}).status_code == 403
    assert client.post(rotate, headers=both, json={"secret": "shpss_another-secret"}).status_code == 200
    assert client.patch(f"/api/v1/inbound-sources/{made.json['id']}", headers=inbound_only,
                        json={"forward": False}).json["forward"] is False


def test_a_producer_cannot_send_an_event_type_in_the_forwarded_namespace(client, auth, make_endpoint):
    make_endpoint(event_types=["inbound.*"])
    for event_type in ("inbound.order.created", "Inbound.order.created"):
        answer = client.post("/api/v1/messages", headers=auth, json={"event_type": event_type, "payload": {}})
        assert answer.status_code == 422 and "inbound" in answer.json["error"], answer.json
    assert client.get("/api/v1/deliveries", headers=auth).json["data"] == []
