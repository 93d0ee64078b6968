from app.config import DATABASE_REQUEST_MARGIN_SECONDS
from app.database import BoundedConnection, _bound_holder, _unbound_holder


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
