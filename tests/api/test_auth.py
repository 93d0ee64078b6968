import pytest

from app.extensions import db
from app.models import ApiKey, AuditEntry, utcnow


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer hky_not-a-real-key", "Bearer wrong"])
def test_missing_or_bad_key_is_401_and_changes_nothing(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/v1/endpoints", headers=headers, json={"url": "https://example.com/hook"})
    assert response.status_code == 401
    assert "API key" in response.json["error"]
    assert client.get("/api/v1/stats", headers=headers).status_code == 401


def test_revoked_key_is_refused(app, client, api_key, auth):
    assert client.get("/api/v1/stats", headers=auth).status_code == 200
    with app.app_context():
        db.session.query(ApiKey).update({"revoked_at": utcnow()})
        db.session.commit()
    assert client.get("/api/v1/stats", headers=auth).status_code == 401


def test_keys_are_stored_only_as_digests(app, api_key):
    with app.app_context():
        row = db.session.query(ApiKey).one()
        assert api_key not in (row.key_hash, row.prefix) and api_key.startswith(row.prefix)


def test_cli_prints_the_new_key_alone_on_its_last_line(app, runner, client):
    result = runner.invoke(args=["api-keys", "create", "shop backend"])
    assert result.exit_code == 0
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("hky_") and " " not in key
    assert client.get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_cli_creates_scoped_keys_lists_and_revokes_them(app, runner, client):
    created = runner.invoke(args=["api-keys", "create", "shop", "--scope", "read", "--scope", "messages:write"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    listed = runner.invoke(args=["api-keys", "list"]).output
    with app.app_context():
        row = db.session.query(ApiKey).one()
    assert row.id in listed and "read messages:write" in listed and key not in listed and row.prefix in listed

    revoked = runner.invoke(args=["api-keys", "revoke", row.id])
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    assert client.get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    with app.app_context():
        actions = [(e.actor, e.action) for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions == [("cli", "api_key.create"), ("cli", "api_key.revoke")]
    assert runner.invoke(args=["api-keys", "revoke", "key_nope"]).exit_code != 0
    assert runner.invoke(args=["api-keys", "create", "x", "--scope", "everything"]).exit_code != 0


def test_json_answers_carry_the_headers_that_matter_for_json(client, auth):
    for base_url, hsts in (("http://localhost", False), ("https://localhost", True)):
        for response in (client.get("/api/v1/deliveries", headers=auth, base_url=base_url),
                         client.get("/api/v1/deliveries", base_url=base_url)):  # an error answer too
            headers = response.headers
            assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
            assert (headers["X-Content-Type-Options"], headers["X-Frame-Options"]) == ("nosniff", "DENY")
            assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
            assert ("Strict-Transport-Security" in headers) is hsts
