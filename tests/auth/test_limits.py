"""Sign-in and password-change limits: per address and per (address, account), on bounded, hashed keys."""

from app.extensions import db, limiter
from app.models import AuditEntry
from tests.support.staff import PASSWORD, login_token, make_user, sign_in

STRANGER, OFFICE = "203.0.113.9", "198.51.100.20"


def attempt(client, email, password, address):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": login_token(client)},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_a_stranger_failing_elsewhere_cannot_lock_the_person_out(app):
    make_user(app, "viewer")
    stranger = app.test_client()
    statuses = [attempt(stranger, "viewer@example.com", "guess", STRANGER) for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]

    assert attempt(app.test_client(), "viewer@example.com", PASSWORD, OFFICE) == 302


def test_one_address_trying_many_accounts_is_limited(app):
    client = app.test_client()
    statuses = [attempt(client, f"person{n}@example.com", "guess", STRANGER) for n in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429
    assert attempt(app.test_client(), "someone@example.com", "guess", OFFICE) == 401  # others are unaffected


def test_an_oversized_sign_in_form_is_refused_before_any_work(app, client):
    response = client.post("/login", data={"email": "x" * 250_000 + "@example.com", "password": "p",
                                           "csrf_token": login_token(client)})
    assert response.status_code == 413
    with app.app_context():
        assert db.session.query(AuditEntry).count() == 0


def test_limiter_keys_are_short_hashes_whatever_was_typed(app, client):
    long_email = "y" * 10_000 + "@example.com"
    assert attempt(client, long_email, "guess", STRANGER) == 422  # no such address: refused, still counted
    keys = list(limiter.storage.storage)  # the in-memory storage the tests use
    assert keys and all(len(key) < 200 and "yyyy" not in key and STRANGER not in key for key in keys)


def test_guessing_the_current_password_is_limited(app, client):
    make_user(app, "operator")
    token = sign_in(client, "operator@example.com")
    form = {"current": "not my password", "new": "a brand new secret", "repeat": "a brand new secret",
            "csrf_token": token}
    statuses = [client.post("/account/password", data=form).status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]
    with app.app_context():
        assert db.session.query(AuditEntry).filter_by(action="user.password_refused").count() == 5
