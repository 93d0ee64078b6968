import pytest

from app.delivery.messages import send_message, send_messages
from app.errors import IllegalTransition, InvalidInput, PayloadTooLarge
from app.extensions import db
from app.models import Delivery, Message
from tasks.broker import broker as _broker
from tasks.broker import queue_depth
from tests.support.factories import queued_delivery_ids, send


def test_deliveries_are_enqueued_only_after_the_callers_commit(app, make_endpoint):
    make_endpoint()
    with app.app_context():
        message, created = send_message("order.created", {"order": 1})
        assert created and len(message.deliveries) == 1
        assert queue_depth() == 0
        db.session.commit()
        assert queue_depth() == 1


def test_a_rolled_back_transaction_sends_nothing(app, make_endpoint):
    make_endpoint()
    with app.app_context():
        send_message("order.created", {"order": 1})
        db.session.rollback()
        db.session.commit()  # a later commit of the same session must not send the dropped deliveries
        assert queue_depth() == 0
        assert db.session.query(Message).count() == 0


def test_fan_out_follows_each_endpoints_filter(app, make_endpoint):
    everything = make_endpoint()
    orders = make_endpoint(event_types=["order.*"])
    invoices = make_endpoint(event_types=["invoice.paid"])
    _, ids = send(app, "order.created")
    with app.app_context():
        targets = {db.session.get(Delivery, i).endpoint_id for i in ids}
    assert targets == {everything.id, orders.id}
    assert invoices.id not in targets


def test_endpoint_ids_narrow_the_fan_out(app, make_endpoint):
    first, second = make_endpoint(), make_endpoint()
    _, ids = send(app, endpoint_ids=[second.id])
    with app.app_context():
        assert [db.session.get(Delivery, i).endpoint_id for i in ids] == [second.id]
        with pytest.raises(InvalidInput, match="unknown endpoint ids: ep_nope"):
            send_message("order.created", {}, endpoint_ids=[first.id, "ep_nope"])


def test_same_idempotency_key_returns_the_first_message_and_creates_nothing(app, make_endpoint):
    make_endpoint()
    first_id, first_deliveries = send(app, idempotency_key="order-1001-created")
    with app.app_context():
        again, created = send_message("order.created", {"order": 1}, idempotency_key="order-1001-created")
        db.session.commit()
        assert not created and again.id == first_id
        assert [d.id for d in again.deliveries] == first_deliveries
        with pytest.raises(IllegalTransition, match="already used for message .*, whose payload differs"):
            send_message("order.created", {"other": True}, idempotency_key="order-1001-created")
        db.session.rollback()
        assert db.session.query(Delivery).count() == len(first_deliveries) == 1
    assert queue_depth() == 1


def test_many_messages_are_written_together_and_enqueued_after_commit(app, make_endpoint):
    make_endpoint()
    with app.app_context():
        sent = send_messages([{"event_type": "order.created", "payload": {"n": n}, "tags": [f"T{n}"]}
                              for n in range(30)])
        assert queue_depth() == 0
        db.session.commit()
        assert db.session.query(Message).count() == 30 and db.session.query(Delivery).count() == 30
        assert sorted(db.session.get(Message, sent[7].id).tags) == ["T7"]
    assert sorted(queued_delivery_ids(_broker)) == sorted(d.id for s in sent for d in s.deliveries)


def test_one_invalid_message_refuses_the_whole_in_process_batch(app, make_endpoint):
    make_endpoint()
    with app.app_context():
        with pytest.raises(InvalidInput, match="message 1: event_type must be"):
            send_messages([{"event_type": "ok.one", "payload": {}}, {"event_type": "not ok", "payload": {}}])
        db.session.rollback()
        assert db.session.query(Message).count() == 0


def test_tags_and_reference_are_stored(app, make_endpoint):
    make_endpoint()
    message_id, _ = send(app, reference="#1001", tags=["ABCD1234", "gid://shopify/Order/1", "ABCD1234"])
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert message.reference == "#1001"
        assert sorted(message.tags) == ["ABCD1234", "gid://shopify/Order/1"]


def test_payload_over_the_limit_is_refused(app, make_endpoint):
    make_endpoint()
    app.config["WEBHOOK_MAX_PAYLOAD_BYTES"] = 1000
    with app.app_context():
        with pytest.raises(PayloadTooLarge, match="the limit is 1000 bytes"):
            send_message("order.created", {"blob": "x" * 1000})
        assert db.session.query(Message).count() == 0


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"payload": [1, 2]}, "payload"),
    ({"event_type": "bad type"}, "event_type"),
    ({"tags": ["x" * 201]}, "tags"),
    ({"tags": "not-a-list"}, "tags"),
    ({"reference": ""}, "reference"),
])
def test_bad_input_is_refused_with_the_field(app, kwargs, field):
    args = {"event_type": "order.created", "payload": {}, **kwargs}
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            send_message(args.pop("event_type"), args.pop("payload"), **args)
        assert error.value.field == field
