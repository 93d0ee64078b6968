"""PostgreSQL: send_message() writes its one statement through psycopg on the session's own connection
(app.database.in_transaction), not through SQLAlchemy's execution. It must stay inside the caller's transaction and
fail as SQLAlchemy would."""

import pytest
from sqlalchemy import exc, func, select, text

from app.database import in_transaction
from app.delivery.messages import send_message
from app.extensions import db
from app.models import Delivery, Message
from tests.conftest import USING_POSTGRES

pytestmark = pytest.mark.skipif(not USING_POSTGRES, reason="SQLite writes through the session")


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_write_is_the_callers_transaction_until_it_commits(app, make_endpoint):
    make_endpoint()
    with app.app_context():
        send_message("order.created", {"id": 1})
        assert (_count(Message), _count(Delivery)) == (1, 1)  # the session sees it: the same transaction
        db.session.rollback()
        assert (_count(Message), _count(Delivery)) == (0, 0)
        sent, created = send_message("order.created", {"id": 2})
        db.session.commit()
        assert created and db.session.get(Message, sent.id) is not None


def test_an_error_is_sqlalchemys_and_leaves_the_session_usable(app, make_endpoint):
    make_endpoint()
    with app.app_context():
        with pytest.raises(exc.DataError) as refused, in_transaction(db.session.connection()) as connection:
            connection.execute("SELECT 1 / 0")
        assert not refused.value.connection_invalidated
        db.session.rollback()
        send_message("order.created", {"id": 1})
        db.session.commit()
        assert _count(Message) == 1


def test_a_connection_the_server_dropped_is_invalidated(app, make_endpoint):
    make_endpoint()
    with app.app_context():
        with pytest.raises(exc.OperationalError) as lost, in_transaction(db.session.connection()) as connection:
            connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        assert lost.value.connection_invalidated
        assert db.session.connection().invalidated
        db.session.rollback()
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # a new connection
        send_message("order.created", {"id": 1})
        db.session.commit()
        assert _count(Message) == 1
