"""Sign-in and password-change limits: per address and per (address, account), on bounded, hashed keys."""

import os

import pytest

from app import config, create_app
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


@pytest.fixture
def deployed_app(app):
    """Make apps configured as the README's PostgreSQL + Redis recipe runs them, on app's database, plus a
    platform's variables."""
    made = []

    def make(**platform):
        env = {k: v for k, v in os.environ.items() if k not in ("DYNO", "RENDER", "PROXY_FIX_HOPS")}
        env.update(TEST_REDIS_URL=env.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0", **platform)
        made.append(create_app(config.TestConfig(env, database_url=app.config["SQLALCHEMY_DATABASE_URI"])))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def forged_attempts(app, count):
    """Sign in count times from one address, each time claiming another in X-Forwarded-For."""
    client = app.test_client()
    return [client.post("/login", data={"email": "viewer@example.com", "password": "guess",
                                        "csrf_token": login_token(client)},
                        headers={"X-Forwarded-For": f"192.0.2.{n}"},
                        environ_base={"REMOTE_ADDR": STRANGER}).status_code for n in range(count)]


def test_forged_forwarded_addresses_meet_the_sign_in_limit_by_default(app, deployed_app):
    make_user(app, "viewer")
    deployed = deployed_app()
    assert deployed.config["PROXY_FIX_HOPS"] == 0
    statuses = forged_attempts(deployed, 25)
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}


@pytest.mark.parametrize("platform", [{"DYNO": "web.1"}, {"RENDER": "true"}, {"PROXY_FIX_HOPS": "1"}])
def test_behind_a_platform_router_the_forwarded_address_is_trusted(app, deployed_app, platform):
    make_user(app, "viewer")
    behind = deployed_app(**platform)
    assert behind.config["PROXY_FIX_HOPS"] == 1
    assert forged_attempts(behind, 25) == [401] * 25  # each a different client, as the router says
