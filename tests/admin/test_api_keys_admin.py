"""The API keys page: admins see every key (never the key itself), create one (shown once) and revoke one, each with
an audited POST."""

import logging
import re

import pytest

from app.auth.api_keys import create_api_key
from app.extensions import db
from app.models import ApiKey, AuditEntry


def make_key(app, name="shop backend", scopes=None):
    with app.app_context():
        row, key = create_api_key(name, scopes)
        return row.id, row.prefix, key


def test_admins_see_keys_but_never_the_key(app, client, staff):
    key_id, prefix, key = make_key(app, scopes=["read"])
    staff("admin")
    page = client.get("/admin/api-keys/").get_data(as_text=True)
    assert "shop backend" in page and prefix in page and "read" in page
    assert key not in page and key[10:] not in page


def test_only_admins_reach_the_page_or_revoke(app, client, staff):
    key_id, _, key = make_key(app)
    token = staff("operator")
    assert client.get("/admin/api-keys/").status_code == 403
    assert client.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token}).status_code == 403
    assert client.get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_revoking_from_the_page_is_audited_and_immediate(app, client, staff):
    key_id, _, key = make_key(app)
    token = staff("admin")
    assert client.post(f"/admin/api-keys/{key_id}/revoke").status_code == 400  # no CSRF token
    response = client.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    with app.app_context():
        row = db.session.get(ApiKey, key_id)
        entry = db.session.query(AuditEntry).filter_by(action="api_key.revoke").one()
    assert row.revoked_by == "admin@example.com" and entry.actor == "admin@example.com"
    assert entry.target_ids == [key_id]
    assert "revoked" in client.get("/admin/api-keys/").get_data(as_text=True)


def create_form(client, token, **fields):
    return client.post("/admin/api-keys/", data={"csrf_token": token, **fields})


def key_on(page):
    match = re.search(r'<pre class="payload secret-value" id="new-api-key">(hky_[A-Za-z0-9_-]+)</pre>', page)
    assert match, "the new key is not on the page"
    return match.group(1)


def test_an_admin_creates_a_key_shown_once_that_works_within_its_scopes(app, client, staff, caplog):
    token = staff("admin")
    caplog.set_level(logging.DEBUG)
    response = create_form(client, token, name="warehouse", access="some", scopes=["read", "messages:write"])
    page = response.get_data(as_text=True)
    key = key_on(page)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "you will not see it again" in page and 'data-copy="new-api-key"' in page
    assert client.get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    refused = client.post("/api/v1/endpoints", json={"url": "https://example.com/hook"},
                          headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 403  # endpoints:write was not ticked
    listing = client.get("/admin/api-keys/").get_data(as_text=True)
    assert "warehouse" in listing and key not in listing and key[10:] not in listing  # never again
    with app.app_context():
        row = db.session.query(ApiKey).one()
        entry = db.session.query(AuditEntry).filter_by(action="api_key.create").one()
    assert row.scopes == ["read", "messages:write"] and entry.actor == "admin@example.com"
    assert entry.after == {"name": "warehouse", "scopes": ["read", "messages:write"]}
    assert key[10:] not in str((entry.summary, entry.before, entry.after))
    assert key[10:] not in caplog.text
    assert all(key[10:] not in cookie.value for cookie in client._cookies.values())  # not flashed in the session


def test_a_key_with_every_scope(app, client, staff):
    token = staff("admin")
    key = key_on(create_form(client, token, name="everything", access="all").get_data(as_text=True))
    with app.app_context():
        assert db.session.query(ApiKey).one().scopes is None
    created = client.post("/api/v1/endpoints", json={"url": "https://example.com/hook"},
                          headers={"Authorization": f"Bearer {key}"})
    assert created.status_code == 201


@pytest.mark.parametrize("fields, says", [
    ({"name": "", "access": "some", "scopes": ["read"]}, "needs a name"),
    ({"name": "   ", "access": "some", "scopes": ["read"]}, "needs a name"),
    ({"name": "x" * 201, "access": "some", "scopes": ["read"]}, "at most 200 characters"),
    ({"name": "bad\u0085name", "access": "some", "scopes": ["read"]}, "without control characters"),
    ({"name": "shop", "access": "some", "scopes": ["read", "admin:everything"]}, "scopes must be some of"),
    ({"name": "shop", "access": "some"}, "tick at least one scope"),
    ({"name": "shop", "access": "root", "scopes": ["read"]}, "choose every scope"),
])
def test_bad_input_answers_400_and_creates_nothing(app, client, staff, fields, says):
    token = staff("admin")
    response = create_form(client, token, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and says in page and "no key was created" in page
    assert "hky_" not in page
    with app.app_context():
        assert db.session.query(ApiKey).count() == 0
        assert db.session.query(AuditEntry).filter_by(action="api_key.create").count() == 0


def test_only_admins_create_keys_and_only_with_a_csrf_token(app, client, staff):
    token = staff("operator")
    assert create_form(client, token, name="sneaky", access="all").status_code == 403
    client.post("/logout", data={"csrf_token": token})
    token = staff("admin")
    assert client.post("/admin/api-keys/", data={"name": "no token", "access": "all"}).status_code == 400
    with app.app_context():
        assert db.session.query(ApiKey).count() == 0
