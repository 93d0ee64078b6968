import logging

from app.extensions import db
from app.models import PortalLink
from app.portal.links import digest
from tests.portal.conftest import audit_actions, open_portal


def test_created_link_is_shown_once_with_its_token_in_the_fragment(app, client, auth, make_endpoint):
    endpoint = make_endpoint()
    answer = client.post("/api/v1/portal-links", headers=auth,
                         json={"endpoint_ids": [endpoint.id], "capabilities": ["replay"], "expires_in": 3600})
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert set(body) == {"id", "url", "expires_at"}
    base, _, token = body["url"].partition("#")
    assert base.endswith("/portal/enter") and token.startswith("hyp_")
    with app.app_context():
        row = db.session.get(PortalLink, body["id"])
        assert row.token_hash == digest(token) and token not in str(vars(row))
        assert row.capabilities == ["view", "replay"]
    listed = client.get("/api/v1/portal-links", headers=auth).json["data"]
    assert [link["id"] for link in listed] == [body["id"]] and token not in str(listed)
    assert ("api:tests", "portal_link.create") in audit_actions(app)


def test_bad_link_requests_are_refused_and_write_nothing(app, client, auth, make_endpoint):
    endpoint = make_endpoint()
    bad = [
        {"endpoint_ids": [], "expires_in": 3600},
        {"endpoint_ids": ["ep_nope"], "expires_in": 3600},
        {"endpoint_ids": ["ep_\u0000"], "expires_in": 3600},  # PostgreSQL cannot even look such an id up
        {"endpoint_ids": [endpoint.id], "capabilities": ["admin"], "expires_in": 3600},
        {"endpoint_ids": [endpoint.id], "expires_in": 5},
        {"endpoint_ids": [endpoint.id], "expires_in": "3600"},
        {"endpoint_ids": [endpoint.id]},
        {"endpoint_ids": [endpoint.id], "expires_in": 3600, "extra": 1},
    ]
    for body in bad:
        answer = client.post("/api/v1/portal-links", headers=auth, json=body)
        assert answer.status_code == 422, (body, answer.json)
        assert answer.json["error"]
    with app.app_context():
        assert db.session.query(PortalLink).count() == 0


def test_revoking_a_link_ends_its_open_sessions_at_once(app, client, auth, make_endpoint):
    endpoint = make_endpoint()
    created = client.post("/api/v1/portal-links", headers=auth,
                          json={"endpoint_ids": [endpoint.id], "expires_in": 3600}).json
    partner = app.test_client()
    assert open_portal(partner, created["url"])
    assert partner.get("/portal/").status_code == 200
    answer = client.delete(f"/api/v1/portal-links/{created['id']}", headers=auth)
    assert answer.status_code == 200 and answer.json["revoked_at"]
    assert partner.get("/portal/").status_code == 404
    assert open_portal(app.test_client(), created["url"]) is None
    assert client.delete("/api/v1/portal-links/pl_nope", headers=auth).status_code == 404
    assert ("api:tests", "portal_link.revoke") in audit_actions(app)


def test_link_token_never_reaches_a_log(app, client, auth, make_endpoint, caplog):
    caplog.set_level(logging.DEBUG)
    endpoint = make_endpoint()
    url = client.post("/api/v1/portal-links", headers=auth,
                      json={"endpoint_ids": [endpoint.id], "expires_in": 3600}).json["url"]
    token = url.partition("#")[2]
    assert open_portal(client, url)
    assert client.get("/portal/").status_code == 200
    assert token not in caplog.text
    assert all(token not in str(record.__dict__) for record in caplog.records)


def test_link_scopes_follow_the_keys_scopes(app, client, make_endpoint):
    from app.auth.api_keys import create_api_key

    endpoint = make_endpoint()
    with app.app_context():
        _, reader = create_api_key("reader", ["read"])
    headers = {"Authorization": f"Bearer {reader}"}
    assert client.get("/api/v1/portal-links", headers=headers).status_code == 200
    answer = client.post("/api/v1/portal-links", headers=headers,
                         json={"endpoint_ids": [endpoint.id], "expires_in": 3600})
    assert answer.status_code == 403
