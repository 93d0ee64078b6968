"""A request that fails in the database leaves no request data in the web log: no payload, no header value."""

import logging

from sqlalchemy import text

from app.extensions import db

#: Values that must never reach a log line.
MARKERS = ("header-value-7f3a", "endpoint-name-9c2e")

_REFUSE_INSERTS = {
    "sqlite": ["CREATE TRIGGER refuse_endpoints BEFORE INSERT ON endpoints "
               "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"],
    "postgresql": ["CREATE FUNCTION refuse_insert() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'refused by a test trigger'; END $$ LANGUAGE plpgsql",
                   "CREATE TRIGGER refuse_endpoints BEFORE INSERT ON endpoints "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_insert()"],
}
_ALLOW_INSERTS = {"sqlite": ["DROP TRIGGER refuse_endpoints"],
                  "postgresql": ["DROP TRIGGER refuse_endpoints ON endpoints", "DROP FUNCTION refuse_insert()"]}


def run(app, statements):
    with app.app_context():
        for statement in statements[db.engine.dialect.name]:
            db.session.execute(text(statement))
        db.session.commit()


def test_a_failed_insert_logs_the_error_but_not_what_was_sent(app, client, auth, receiver, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error is logged and answered with a 500
    run(app, _REFUSE_INSERTS)
    caplog.set_level(logging.DEBUG)
    try:
        response = client.post("/api/v1/endpoints", headers=auth, json={
            "url": receiver.url(), "name": MARKERS[1], "headers": {"X-Auth": MARKERS[0]}})
    finally:
        run(app, _ALLOW_INSERTS)
    assert response.status_code == 500 and response.is_json
    assert "refused by a test trigger" in caplog.text  # the failure itself is logged, with its traceback
    assert not [marker for marker in MARKERS if marker in caplog.text], caplog.text
