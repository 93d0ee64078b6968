import psycopg
import pytest

from app.config import DATABASE_REQUEST_MARGIN_SECONDS
from app.database import BoundedConnection, _bound_holder, _unbound_holder, autocommitted, kept_cursor
from app.extensions import db
from tests.conftest import USING_POSTGRES


def _connection(wait_timeout):
    connection = BoundedConnection.__new__(BoundedConnection)  # never connected: only its bound is read here
    connection.wait_timeout = wait_timeout
    return connection


def test_a_connection_handed_to_a_request_waits_no_longer_than_the_request_may(app):
    connection = _connection(60)
    for path, setting in (("/api/v1/messages", "DATABASE_REQUEST_TIMEOUT_SECONDS"),
                          ("/inbound/shop", "INBOUND_DATABASE_TIMEOUT_SECONDS")):
        with app.test_request_context(path):
            _bound_holder(connection, None, None)
        assert connection.held_bound == app.config[setting] + DATABASE_REQUEST_MARGIN_SECONDS
        _unbound_holder(connection, None)
        assert connection.held_bound is None


def test_a_connection_handed_out_of_any_request_keeps_its_own_bound(app):
    connection = _connection(60)
    with app.app_context():
        _bound_holder(connection, None, None)
    assert connection.held_bound == 60


@pytest.mark.skipif(not USING_POSTGRES, reason="prepared statements are PostgreSQL's")
def test_a_rollback_keeps_the_prepared_statements(app):
    """psycopg deallocates them all at a rollback; a pooled connection of a worker was rolled back several times a
    second (a session that only read), and the claim then planned anew."""
    with app.app_context():
        pooled = db.engine.raw_connection()
        try:
            connection = pooled.driver_connection
            assert isinstance(connection, BoundedConnection)
            query = "SELECT count(*) FROM pg_class WHERE relname = %s"
            connection.execute(query, ("deliveries",), prepare=True)  # prepared, inside a transaction
            connection.rollback()
            prepared = "SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql AND statement LIKE %s"
            assert connection.execute(prepared, ("SELECT count(*) FROM pg_class%",)).fetchone() == (1,)
            connection.execute(query, ("deliveries",), prepare=True)  # psycopg knows it: not prepared a second time
            assert connection.execute(prepared, ("SELECT count(*) FROM pg_class%",)).fetchone() == (1,)
            connection.execute("DROP TABLE IF EXISTS no_such_table")  # what may undo them still clears them
            connection.rollback()
            assert connection.execute(prepared, ("SELECT count(*) FROM pg_class%",)).fetchone() == (0,)
        finally:
            pooled.close()


@pytest.mark.skipif(not USING_POSTGRES, reason="statements psycopg sends itself run on PostgreSQL only")
def test_statements_on_a_lent_connection_share_one_cursor_that_outlives_an_error(app):
    with app.app_context():
        with autocommitted(db.engine) as connection:
            cursor = kept_cursor(connection)
            assert cursor.execute("SELECT %(n)s::int", {"n": 1}).fetchone() == (1,)
            with pytest.raises(psycopg.errors.DivisionByZero):
                kept_cursor(connection).execute("SELECT 1 / 0")
            assert kept_cursor(connection) is cursor
            assert cursor.execute("SELECT %(n)s::int", {"n": 2}).fetchone() == (2,)
            cursor.close()
            assert kept_cursor(connection) is not cursor  # a closed one is replaced
            assert kept_cursor(connection).execute("SELECT 3").fetchone() == (3,)
