"""Staff sessions live on the server: a copied cookie stops working once its session is ended."""

from app.audit import SYSTEM
from app.extensions import db
from app.models import StaffSession, utcnow
from app.staff.users import update_user
from tests.support.staff import PASSWORD, login_token, make_user, session_token, sign_in

COOKIE = "session"


def copy_of(app, client):
    """Another browser holding a copy of client's session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


def signed_in(client):
    return client.get("/admin/").status_code == 200


def test_a_copied_cookie_stops_working_after_sign_out(app, client):
    make_user(app, "operator")
    token = sign_in(client, "operator@example.com")
    thief = copy_of(app, client)
    assert signed_in(thief)

    client.post("/logout", data={"csrf_token": token})

    assert not signed_in(client)
    response = thief.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_change_ends_every_other_session(app):
    make_user(app, "operator")
    laptop, phone = app.test_client(), app.test_client()
    token = sign_in(laptop, "operator@example.com")
    sign_in(phone, "operator@example.com")
    thief = copy_of(app, laptop)

    response = laptop.post("/account/password", data={"current": PASSWORD, "new": "a brand new secret",
                                                      "repeat": "a brand new secret", "csrf_token": token})

    assert response.status_code == 302
    assert signed_in(laptop)  # the browser that changed it carries on, with a new session
    assert not signed_in(phone) and not signed_in(thief)


def test_a_role_change_or_deactivation_signs_the_person_out(app):
    user_id = make_user(app, "operator")
    make_user(app, "admin")
    for change in ({"role": "viewer"}, {"active": False}):
        client = app.test_client()
        if change.get("active") is False:
            with app.app_context():
                update_user(user_id, active=True, actor=SYSTEM)
        sign_in(client, "operator@example.com")
        with app.app_context():
            update_user(user_id, actor=SYSTEM, **change)
        assert not signed_in(client), change


def test_an_unchanged_role_keeps_the_session(app, client):
    user_id = make_user(app, "operator")
    sign_in(client, "operator@example.com")
    with app.app_context():
        update_user(user_id, role="operator", actor=SYSTEM)
    assert signed_in(client)


def test_sign_in_starts_a_new_session_and_csrf_secret(app, client):
    make_user(app, "viewer")
    before_token = login_token(client)
    planted = client.get_cookie(COOKIE).value  # what a fixation attack would have planted
    client.post("/login", data={"email": "viewer@example.com", "password": PASSWORD, "csrf_token": before_token})

    assert client.get_cookie(COOKIE).value != planted
    fixated = app.test_client()
    fixated.set_cookie(COOKIE, planted)
    assert not signed_in(fixated)
    assert client.post("/logout", data={"csrf_token": before_token}).status_code == 400  # the old secret is gone
    assert session_token(client) != before_token
    assert client.post("/logout", data={"csrf_token": session_token(client)}).status_code == 302


def test_a_session_ends_at_its_lifetime(app, client):
    make_user(app, "viewer")
    sign_in(client, "viewer@example.com")
    with app.app_context():
        db.session.query(StaffSession).update({"expires_at": utcnow()})
        db.session.commit()
    assert not signed_in(client)


def test_the_server_keeps_only_a_digest_of_the_session_token(app, client):
    make_user(app, "viewer")
    sign_in(client, "viewer@example.com")
    with app.app_context():
        with client.session_transaction() as session:
            token = session["staff_session"]
        stored = db.session.query(StaffSession).one()
        assert token not in (stored.id, stored.ip) and stored.ended_at is None
