"""A change made by another process takes effect on this process's very next message, though each process
remembers API keys and receiving endpoints between requests (app.auth.api_keys, app.delivery.messages): here two
app objects on one database play the two processes, one changing, the other serving."""

import psycopg
import pytest
from sqlalchemy import func, select, text

from app import create_app
from app.audit import SYSTEM
from app.auth.api_keys import revoke_api_key
from app.config import TestConfig as Settings
from app.delivery import catalog_rules
from app.delivery.attempt import endpoint_health
from app.delivery.attempt.sender import Outcome
from app.delivery.catalog import delete_event_type, put_event_type
from app.delivery.endpoints.service import create_endpoint, delete_endpoint, set_state, update_endpoint
from app.delivery.messages import send_message
from app.extensions import db
from app.models import RECEIVING_TOKEN, ApiKey, ChangeToken, Delivery, ErrorClass, Message, utcnow
from tests.conftest import USING_POSTGRES

ORDER = {"event_type": "order.created", "payload": {"order": 1}}


@pytest.fixture
def elsewhere(app):
    """Another app on the same database, as another web or worker process would be."""
    other = create_app(Settings(database_url=app.config["SQLALCHEMY_DATABASE_URI"]))
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def new_endpoint(app, **fields):
    with app.app_context():
        endpoint, _ = create_endpoint("http://127.0.0.1:9/hook", **fields)
        db.session.commit()
        return endpoint.id


def targets(response):
    assert response.status_code == 202, response.json
    return sorted(d["endpoint_id"] for d in response.json["deliveries"])


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_key_revoked_elsewhere_is_refused_on_the_next_request(app, elsewhere, client, auth):
    new_endpoint(app)
    for _ in range(2):  # the second is served with the key as this process remembers it
        assert client.post("/api/v1/messages", headers=auth, json=ORDER).status_code == 202
    with elsewhere.app_context():
        revoke_api_key(db.session.scalars(select(ApiKey.id)).one(), actor=SYSTEM)

    refused = client.post("/api/v1/messages", headers=auth, json=ORDER)

    assert refused.status_code == 401 and refused.json == {"error": "the API key is not valid"}
    assert count(app, Message) == 2 and count(app, Delivery) == 2  # nothing written


def test_a_key_revoked_elsewhere_gets_401_not_the_answer_to_its_bad_body(app, elsewhere, client, auth):
    new_endpoint(app)
    assert client.post("/api/v1/messages", headers=auth, json=ORDER).status_code == 202
    with elsewhere.app_context():
        revoke_api_key(db.session.scalars(select(ApiKey.id)).one(), actor=SYSTEM)

    for body in ({"event_type": "not valid", "payload": {}}, {**ORDER, "endpoint_ids": ["ep_unknown"]}):
        refused = client.post("/api/v1/messages", headers=auth, json=body)
        assert refused.status_code == 401, refused.json
    assert count(app, Message) == 1


@pytest.mark.parametrize("change", ["added", "filter", "disabled", "deleted", "paused"])
def test_an_endpoint_changed_elsewhere_is_matched_as_it_now_is_on_the_next_message(app, elsewhere, client, auth,
                                                                                    change):
    first = new_endpoint(app)
    second = new_endpoint(app, event_types=["order.*"])
    assert targets(client.post("/api/v1/messages", headers=auth, json=ORDER)) == sorted([first, second])
    third = new_endpoint(elsewhere, event_types=["order.created"]) if change == "added" else None
    with elsewhere.app_context():
        if change == "filter":
            update_endpoint(second, {"event_types": ["invoice.*"]}, actor=SYSTEM)
        elif change in ("disabled", "paused"):
            set_state(second, change, actor=SYSTEM)
        elif change == "deleted":
            delete_endpoint(second, actor=SYSTEM, force=True)
        db.session.commit()

    now = targets(client.post("/api/v1/messages", headers=auth, json=ORDER))

    expected = {"added": [first, second, third], "paused": [first, second]}.get(change, [first])
    assert now == sorted(expected)


def test_send_message_matches_an_endpoint_added_elsewhere_on_the_next_message(app, elsewhere):
    first = new_endpoint(app)
    with app.app_context():
        sent, _ = send_message(**ORDER)
        db.session.commit()
        assert [d.endpoint_id for d in sent.deliveries] == [first]
    second = new_endpoint(elsewhere)
    with app.app_context():
        sent, _ = send_message(**ORDER)
        db.session.commit()
        assert sorted(d.endpoint_id for d in sent.deliveries) == sorted([first, second])


@pytest.mark.skipif(not USING_POSTGRES, reason="one round trip is PostgreSQL's path; SQLite runs in the process")
def test_a_message_posted_with_a_known_key_and_endpoints_is_one_statement_and_no_transaction(app, client, auth,
                                                                                            monkeypatch):
    new_endpoint(app)
    assert client.post("/api/v1/messages", headers=auth, json=ORDER).status_code == 202
    seen, execute = [], psycopg.Cursor.execute

    def statement(cursor, query, *args, **kwargs):  # every statement, sent through SQLAlchemy or psycopg itself
        seen.append((str(query).split()[0], cursor.connection.autocommit))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", statement)
    assert client.post("/api/v1/messages", headers=auth, json=ORDER).status_code == 202
    monkeypatch.undo()
    # the key, the endpoints and the write in one, autocommitted: no BEGIN, no transaction timeouts to set
    assert seen == [("WITH", True)]


def receiving_token(app):
    with app.app_context():
        return db.session.scalar(select(ChangeToken.token).where(ChangeToken.name == RECEIVING_TOKEN))


@pytest.mark.skipif(not USING_POSTGRES, reason="SQLite reads the endpoints for each write")
def test_an_endpoint_changed_by_any_statement_is_matched_as_it_now_is_on_the_next_message(app, client, auth):
    """What the writes compare is replaced by a trigger in the changing transaction itself, so a change made outside
    the app (a statement typed in psql, a script) takes effect on the next message as one made through it does."""
    first, second = new_endpoint(app), new_endpoint(app)
    assert targets(client.post("/api/v1/messages", headers=auth, json=ORDER)) == sorted([first, second])
    for statement, expected in (("UPDATE endpoints SET state = 'disabled' WHERE id = :second", [first]),
                                ("UPDATE endpoints SET state = 'enabled', event_types = '[\"invoice.*\"]'"
                                 " WHERE id = :second", [first]),
                                ("UPDATE endpoints SET event_types = '[\"order.*\"]' WHERE id = :second",
                                 [first, second]),
                                ("DELETE FROM endpoints WHERE id = :first", [second])):
        with app.app_context():
            db.session.execute(text(statement), {"first": first, "second": second})
            db.session.commit()
        assert targets(client.post("/api/v1/messages", headers=auth, json=ORDER)) == sorted(expected), statement


@pytest.mark.skipif(not USING_POSTGRES, reason="SQLite reads the endpoints for each write")
def test_an_endpoints_health_writes_leave_every_process_its_receiving_endpoints(app):
    """Most writes to an endpoint are its health after attempts: they do not change which endpoints receive messages,
    and must not make every process read the endpoints again; a change of state does."""
    endpoint = new_endpoint(app)
    before = receiving_token(app)
    with app.app_context():
        failed = Outcome(duration_ms=5, status=500, error_class=ErrorClass.HTTP, error="HTTP 500")
        endpoint_health.record_outcome(endpoint, failed, utcnow())
        endpoint_health.record_outcome(endpoint, Outcome(duration_ms=5, status=200), utcnow())
        db.session.commit()
    assert receiving_token(app) == before
    with app.app_context():
        set_state(endpoint, "paused", actor=SYSTEM)
        db.session.commit()
    assert receiving_token(app) not in (before, None)


QR = {"type": "object", "required": ["qr_code"],
      "properties": {"qr_code": {"type": "string", "pattern": "^[A-Z]{4}[0-9]{4}$"}}}


def change_catalog_elsewhere(elsewhere, change):
    """Change the catalog as another process would: this process keeps the catalog it remembers."""
    remembered = catalog_rules._known
    with elsewhere.app_context():
        change()
    catalog_rules._known = remembered


@pytest.mark.skipif(not USING_POSTGRES, reason="SQLite reads the catalog for each request")
def test_an_event_type_catalogued_elsewhere_holds_the_very_next_message(app, elsewhere, client, auth):
    new_endpoint(app)
    bad = {"event_type": "qr.scanned", "payload": {"qr_code": "abcd12"}}
    assert client.post("/api/v1/messages", headers=auth, json=bad).status_code == 202  # not catalogued yet
    change_catalog_elsewhere(elsewhere, lambda: put_event_type("qr.scanned", schema=QR, actor=SYSTEM))

    refused = client.post("/api/v1/messages", headers=auth, json=bad)

    assert refused.status_code == 422 and refused.json["error"].startswith("payload.qr_code: 'abcd12'")
    assert count(app, Message) == 1
    batch = client.post("/api/v1/messages/batch", headers=auth,
                        json={"messages": [bad, {"event_type": "qr.scanned", "payload": {"qr_code": "ABCD1234"}}]})
    assert [m.get("status", 202) for m in batch.json["messages"]] == [422, 202] and count(app, Message) == 2


@pytest.mark.skipif(not USING_POSTGRES, reason="SQLite reads the catalog for each request")
def test_an_event_type_removed_elsewhere_no_longer_refuses(app, elsewhere, client, auth):
    new_endpoint(app)
    with app.app_context():
        put_event_type("qr.scanned", schema=QR, actor=SYSTEM)
    bad = {"event_type": "qr.scanned", "payload": {"qr_code": "abcd12"}}
    assert client.post("/api/v1/messages", headers=auth, json=bad).status_code == 422
    change_catalog_elsewhere(elsewhere, lambda: delete_event_type("qr.scanned", actor=SYSTEM))

    assert client.post("/api/v1/messages", headers=auth, json=bad).status_code == 202


@pytest.mark.skipif(not USING_POSTGRES, reason="SQLite reads the catalog for each request")
def test_an_event_type_changed_by_any_statement_holds_the_very_next_message(app, client, auth):
    """The catalog's token is replaced by a trigger in the changing transaction, so a change made outside the app
    (a statement typed in psql) takes effect on the next message as one made through it does."""
    new_endpoint(app)
    with app.app_context():
        put_event_type("qr.scanned", schema=QR, actor=SYSTEM)
    bad = {"event_type": "qr.scanned", "payload": {"qr_code": "abcd12"}}
    assert client.post("/api/v1/messages", headers=auth, json=bad).status_code == 422
    with app.app_context():
        db.session.execute(text("DELETE FROM event_types WHERE name = 'qr.scanned'"))
        db.session.commit()
    assert "qr.scanned" in catalog_rules.known_catalog().revisions  # this process still remembers it

    assert client.post("/api/v1/messages", headers=auth, json=bad).status_code == 202
