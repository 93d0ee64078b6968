import re

from app.extensions import db
from app.models import AuditEntry, PortalLink
from tests.portal.conftest import open_portal, text


def test_admin_creates_a_link_shown_once_and_revokes_it(app, client, staff, make_endpoint):
    endpoint = make_endpoint()
    csrf = staff("admin")
    page = client.post(f"/admin/endpoints/{endpoint.id}/portal-links",
                       data={"csrf_token": csrf, "capabilities": ["replay"], "expires_days": "2"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    url = re.search(r'id="portal-link-url">([^<]+)<', page.get_data(as_text=True)).group(1)
    assert "/portal/enter#hyp_" in url and 'data-copy="portal-link-url"' in text(page)
    with app.app_context():
        link = db.session.query(PortalLink).one()
        assert link.endpoint_ids == [endpoint.id] and link.capabilities == ["view", "replay"]
    manage = text(client.get(f"/admin/endpoints/{endpoint.id}"))
    assert link.id in manage and url.partition("#")[2] not in manage
    partner = app.test_client()
    assert open_portal(partner, url)
    answer = client.post(f"/admin/endpoints/{endpoint.id}/portal-links/{link.id}/revoke", data={"csrf_token": csrf})
    assert answer.status_code == 302
    assert partner.get("/portal/").status_code == 404
    with app.app_context():
        actions = [(e.actor, e.action) for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert ("admin@example.com", "portal_link.create") in actions
    assert ("admin@example.com", "portal_link.revoke") in actions


def test_only_admins_create_links(app, client, staff, make_endpoint):
    endpoint = make_endpoint()
    csrf = staff("operator")
    answer = client.post(f"/admin/endpoints/{endpoint.id}/portal-links",
                         data={"csrf_token": csrf, "expires_days": "2"})
    assert answer.status_code == 403
    assert 'id="portal-links"' not in text(client.get(f"/admin/endpoints/{endpoint.id}"))
    with app.app_context():
        assert db.session.query(PortalLink).count() == 0


def test_a_bad_expiry_is_refused_and_creates_nothing(app, client, staff, make_endpoint):
    endpoint = make_endpoint()
    csrf = staff("admin")
    for days in ("", "0", "91", "nan", "x"):
        page = client.post(f"/admin/endpoints/{endpoint.id}/portal-links", follow_redirects=True,
                           data={"csrf_token": csrf, "expires_days": days})
        assert "Valid for" in text(page)
    with app.app_context():
        assert db.session.query(PortalLink).count() == 0
