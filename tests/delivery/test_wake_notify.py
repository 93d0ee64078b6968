"""On PostgreSQL with a broker, the write of send_message() carries the workers' wake-up: a NOTIFY in the producer's
own transaction, so its commit makes no broker call."""

from datetime import timedelta

import psycopg
import pytest

from app.delivery import wake_notify
from app.extensions import db
from app.models import utcnow
from tests.support.factories import queued_messages, send


@pytest.fixture
def listening(app, wake_by_notify):
    """A connection LISTENing on the channel, as a worker's listener does; yields a function returning the delivery
    ids notified so far (and the moments notified so far, in its attribute moments)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"LISTEN {wake_notify.CHANNEL}")
        seen = []

        def notified():
            for notify in connection.notifies(timeout=0.05):
                seen.extend(wake_notify.delivery_ids(notify.payload))
                if (moment := wake_notify.moment(notify.payload)) is not None:
                    notified.moments.append(moment)
            return seen

        notified.moments = []
        yield notified


@pytest.fixture
def broker_calls(broker, monkeypatch):
    """Every message enqueued on the broker from now on."""
    calls = []
    enqueue = broker.enqueue
    monkeypatch.setattr(broker, "enqueue", lambda message, **options: calls.append(message) or enqueue(message,
                                                                                                       **options))
    return calls


def test_a_commit_notifies_the_workers_and_makes_no_broker_call(app, listening, broker_calls, make_endpoint, broker):
    make_endpoint()
    make_endpoint()
    _, delivery_ids = send(app)
    assert sorted(listening()) == sorted(delivery_ids)
    assert broker_calls == [] and queued_messages(broker) == []


def test_a_rolled_back_write_notifies_nobody(app, listening, broker_calls, make_endpoint):
    from app.delivery.messages import send_message

    make_endpoint()
    with app.app_context():
        send_message("order.created", {"n": 1})
        db.session.rollback()
    assert listening() == [] and broker_calls == []


def test_a_scheduled_delivery_waits_in_the_broker_and_only_the_earliest_moment_is_notified(app, listening, broker,
                                                                                           make_endpoint):
    from app.delivery.messages import send_messages

    make_endpoint()
    soon, later = utcnow() + timedelta(minutes=5), utcnow() + timedelta(hours=1)
    with app.app_context():
        sent = send_messages([{"event_type": "order.created", "payload": {"n": 1}, "deliver_at": later.isoformat()},
                              {"event_type": "order.created", "payload": {"n": 2}, "deliver_at": soon.isoformat()}])
        db.session.commit()
    assert listening() == [] and listening.moments == [soon]  # the ids are not named: the timer needs the moment
    assert sorted(queued_messages(broker)) == sorted([d.id] for m in sent for d in m.deliveries)


def test_a_large_write_is_notified_in_several_payloads_that_name_every_delivery(app, listening, make_endpoint):
    from app.delivery.messages import send_messages

    make_endpoint()
    with app.app_context():
        sent = send_messages([{"event_type": "order.created", "payload": {"n": n}}
                              for n in range(wake_notify.IDS_PER_NOTIFY * 2 + 1)])
        db.session.commit()
    assert sorted(listening()) == sorted(d.id for m in sent for d in m.deliveries)


def test_with_the_relay_off_a_commit_sends_the_wake_up_to_the_broker(app, broker, make_endpoint):
    make_endpoint()
    _, (delivery_id,) = send(app)
    assert queued_messages(broker) == [[delivery_id]]


def test_a_warm_api_call_notifies_what_is_due_now_and_hands_what_is_due_later_to_the_broker(
        app, client, auth, listening, broker, make_endpoint):
    make_endpoint()
    order = {"event_type": "order.created", "payload": {"n": 1}}
    assert client.post("/api/v1/messages", headers=auth, json=order).status_code == 202  # key and endpoints now known
    listening()
    later = utcnow() + timedelta(hours=1)

    now = client.post("/api/v1/messages", headers=auth, json=order).json  # one autocommitted statement
    scheduled = client.post("/api/v1/messages", headers=auth, json={**order, "deliver_at": later.isoformat()}).json

    (due_now,), (due_later,) = ([d["id"] for d in sent["deliveries"]] for sent in (now, scheduled))
    assert due_now in listening() and due_later not in listening() and listening.moments == [later]
    assert [due_later] in queued_messages(broker) and [due_now] not in queued_messages(broker)
