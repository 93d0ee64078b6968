"""The API keys page: admins see every key (never the key itself) and revoke one with an audited POST."""

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
