from urllib.parse import quote

import pytest

from app.models import DeliveryStatus
from tests.support.factories import load, send
from tests.support.staff import login_token, make_user, session_token

ADMIN_ONLY = ["/admin/audit/", "/admin/users/", "/admin/settings/"]
READABLE = ["/admin/", "/admin/messages/", "/admin/endpoints/", "/admin/jobs/", "/admin/inbound/",
            "/admin/inbound-sources/"]


@pytest.mark.parametrize("path", READABLE + ADMIN_ONLY + ["/sync"])
def test_anonymous_people_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"] or response.headers["Location"].endswith("/admin/")


def test_sync_redirects_to_the_monitor(client):
    assert client.get("/sync").headers["Location"].endswith("/admin/")


@pytest.mark.parametrize(("role", "readable", "admin_pages"), [
    ("viewer", 200, 403), ("operator", 200, 403), ("admin", 200, 200),
])
def test_pages_by_role(client, staff, role, readable, admin_pages):
    staff(role)
    for path in READABLE:
        assert client.get(path).status_code == readable, path
    for path in ADMIN_ONLY:
        assert client.get(path).status_code == admin_pages, path


def operator_posts(delivery_id):
    return [
        (f"/admin/retry/{delivery_id}", {}),
        (f"/admin/cancel/{delivery_id}", {}),
        ("/admin/action/", {"action": "retry", "rowid": delivery_id}),
        ("/admin/action/", {"action": "cancel", "rowid": delivery_id}),
        ("/admin/jobs/retry-matching", {}),
    ]


@pytest.mark.parametrize("index", range(5))
def test_a_viewer_posting_an_operator_action_gets_403_and_nothing_changes(app, client, staff, make_endpoint, index):
    make_endpoint()
    _, (delivery_id,) = send(app)
    token = staff("viewer")
    path, data = operator_posts(delivery_id)[index]
    response = client.post(path, data={**data, "csrf_token": token})
    assert response.status_code == 403
    delivery = load(app, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING and delivery.manual_retry_at is None


@pytest.mark.parametrize("index", range(5))
def test_an_operator_post_without_a_csrf_token_is_refused(app, client, staff, make_endpoint, index):
    make_endpoint()
    _, (delivery_id,) = send(app)
    staff("operator")
    path, data = operator_posts(delivery_id)[index]
    assert client.post(path, data=data).status_code == 400
    assert load(app, delivery_id).status is DeliveryStatus.PENDING


def test_a_viewer_sees_no_action_buttons(app, client, staff, make_endpoint):
    make_endpoint()
    send(app)
    staff("viewer")
    html = client.get("/admin/").get_data(as_text=True)
    assert 'data-action="retry"' not in html and 'data-action="cancel"' not in html
    assert 'data-action="log"' in html


def test_state_changes_need_post(app, client, staff, make_endpoint):
    make_endpoint()
    _, (delivery_id,) = send(app)
    staff("operator")
    assert client.get(f"/admin/retry/{delivery_id}").status_code == 405
    assert client.get("/logout").status_code == 405


def test_a_one_time_password_must_be_changed_first(app, client):
    from app.staff.users import create_user

    with app.app_context():
        _, generated = create_user("new@example.com", "operator")
    response = client.post("/login", data={"email": "new@example.com", "password": generated,
                                           "csrf_token": login_token(client)})
    assert response.headers["Location"].endswith("/account/password")
    assert client.get("/admin/").headers["Location"].endswith("/account/password")
    token = session_token(client)
    response = client.post("/account/password", data={
        "current": generated, "new": "a much better one", "repeat": "a much better one", "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_inactive_users_cannot_sign_in(app, client):
    from app.audit import SYSTEM
    from app.staff.users import update_user

    user_id = make_user(app, "operator")
    make_user(app, "admin")
    with app.app_context():
        update_user(user_id, active=False, actor=SYSTEM)
    response = client.post("/login", data={"email": "operator@example.com", "password": "correct horse battery",
                                           "csrf_token": login_token(client)})
    assert response.status_code == 401


def test_sign_in_is_rate_limited(app, client):
    make_user(app, "viewer")
    token = login_token(client)
    statuses = [client.post("/login", data={"email": "viewer@example.com", "password": "wrong password",
                                            "csrf_token": token}).status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    # even the right password waits now
    assert client.post("/login", data={"email": "viewer@example.com", "password": "correct horse battery",
                                       "csrf_token": token}).status_code == 429


def test_sign_in_and_out_are_audited(app, client, staff):
    from app.extensions import db
    from app.models import AuditEntry

    token = staff("viewer")
    client.post("/logout", data={"csrf_token": token})
    client.post("/login", data={"email": "viewer@example.com", "password": "nope", "csrf_token": login_token(client)})
    with app.app_context():
        actions = [(e.actor, e.action) for e in db.session.query(AuditEntry).order_by(AuditEntry.id)
                   if e.action.startswith(("login", "logout"))]
    assert actions == [("viewer@example.com", "login"), ("viewer@example.com", "logout"),
                       ("viewer@example.com", "login.failed")]


def test_next_never_leaves_the_site(app, client):
    make_user(app, "viewer")
    for target in ("https://evil.example/x", "//evil.example", "/\\evil.example", "javascript:alert(1)",
                   "http://localhost.evil.example/"):
        client = app.test_client()
        response = client.post(f"/login?next={quote(target)}", data={
            "email": "viewer@example.com", "password": "correct horse battery", "csrf_token": login_token(client)})
        assert response.headers["Location"] == "/admin/overview/", target
    # a tab or line break (which browsers drop) in the address is refused before anything happens
    client = app.test_client()
    assert client.post(f"/login?next={quote(chr(9))}/evil.example", data={"csrf_token": login_token(client)}
                       ).status_code == 400


def test_cookies_are_secure_outside_embedded_mode():
    from app.config import Config

    config = Config({"REDIS_URL": "redis://h:6379"})
    assert config.SESSION_COOKIE_SECURE and config.SESSION_COOKIE_HTTPONLY and config.SESSION_COOKIE_SAMESITE == "Lax"
    assert not Config({}).SESSION_COOKIE_SECURE  # a laptop over plain http
