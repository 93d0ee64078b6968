"""A broker message may carry a batch of deliveries: claimed together, sent, recorded together, none lost."""

import collections
import threading
import time

from app.delivery.attempt import claim
from app.delivery.attempt.pipeline import attempt_deliveries
from app.delivery.attempt.record import RecordedAttempt
from app.extensions import db
from app.models import DeliveryStatus
from tasks.deliveries import BATCH_SIZE, deliver_webhooks
from tests.support.factories import load, queued_delivery_ids, queued_messages, send, send_many
from tests.support.receiver import Receiver, Reply
from tests.support.waiting import wait_until


def attempt_all(app, ids):
    with app.app_context():
        return attempt_deliveries(ids)


def test_a_batch_to_one_endpoint_goes_over_one_connection_and_is_recorded(app, make_endpoint, receiver):
    make_endpoint()
    ids = send_many(app, 5)
    results = attempt_all(app, ids)
    assert sorted(r.delivery_id for r in results) == sorted(ids)
    assert all(isinstance(r, RecordedAttempt) and r.response_status == 200 for r in results)
    assert {load(app, i).status for i in ids} == {DeliveryStatus.SUCCEEDED}
    assert len({r.peer_port for r in receiver.requests}) == 1  # one kept-alive connection


def test_a_batch_is_claimed_in_one_statement(app, make_endpoint, receiver, monkeypatch):
    make_endpoint()
    ids = send_many(app, 4)
    gated = []
    monkeypatch.setattr(claim, "claim_gated", lambda delivery_id, throttle=None: gated.append(delivery_id))
    attempt_all(app, ids)
    assert gated == []  # nothing needed the one-by-one path
    assert {load(app, i).status for i in ids} == {DeliveryStatus.SUCCEEDED}


def test_after_an_unwell_answer_the_rest_of_the_batch_goes_back_unattempted(app, make_endpoint, receiver, broker):
    make_endpoint()
    receiver.reply(Reply(503))
    ids = send_many(app, 3)
    broker.flush_all()
    attempt_all(app, ids)
    first, *rest = (load(app, i) for i in ids)
    assert first.attempt_count == 1 and first.status is DeliveryStatus.PENDING
    assert [(d.status, d.attempt_count, d.lease_token) for d in rest] == [(DeliveryStatus.PENDING, 0, None)] * 2
    assert len(receiver.requests) == 1
    assert set(queued_delivery_ids(broker)) >= {d.id for d in rest}  # woken again


def test_a_slow_endpoint_does_not_hold_up_another_in_the_same_batch(app, make_endpoint, receiver):
    slow = Receiver()
    try:
        slow.default = Reply(200, delay=3)
        make_endpoint(slow.url(), event_types=["order.slow"])
        make_endpoint(event_types=["order.created"])
        _, (slow_id,) = send(app, "order.slow")
        fast_ids = send_many(app, 3)
        results = []

        def run():
            with app.app_context():
                results.extend(attempt_deliveries([slow_id, *fast_ids]))

        thread = threading.Thread(target=run)
        thread.start()
        wait_until(lambda: all(load(app, i).status is DeliveryStatus.SUCCEEDED for i in fast_ids), timeout=2.5)
        assert load(app, slow_id).status is DeliveryStatus.SENDING  # still waiting on its receiver
        thread.join(10)
        assert load(app, slow_id).status is DeliveryStatus.SUCCEEDED and len(results) == 4
    finally:
        slow.close()


def test_one_delivery_whose_record_fails_loses_no_other_record(app, make_endpoint, receiver, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from app.delivery.attempt import record

    make_endpoint()
    ids = send_many(app, 3)
    real = record._write

    def write(results, *, with_health=True):
        if any(c.delivery_id == ids[1] for c, _ in results) and with_health:
            raise IntegrityError("INSERT ...", {}, Exception("refused"))
        return real(results, with_health=with_health)

    real_successes = record._write_successes

    def write_successes(results, *args):  # PostgreSQL's one-statement record of successes: refused the same way
        if any(c.delivery_id == ids[1] for c, _ in results):
            raise IntegrityError("INSERT ...", {}, Exception("refused"))
        return real_successes(results, *args)

    monkeypatch.setattr(record, "_write", write)
    monkeypatch.setattr(record, "_write_successes", write_successes)
    attempt_all(app, ids)
    rows = [load(app, i) for i in ids]
    assert [d.status for d in rows] == [DeliveryStatus.SUCCEEDED] * 3
    assert [len(d.attempts_list) for d in rows] == [1, 1, 1]
    assert rows[1].attempts_list[0].error.startswith("the attempt's details could not be stored")
    assert rows[0].attempts_list[0].error is None


def test_a_commit_of_many_deliveries_enqueues_batches(app, make_endpoint, broker):
    make_endpoint()
    broker.flush_all()
    with app.app_context():
        from app.delivery.messages import send_message

        ids = [d.id for n in range(BATCH_SIZE + 5) for d in send_message("order.created", {"n": n})[0].deliveries]
        db.session.commit()
    assert queued_delivery_ids(broker) == sorted(ids)
    assert sorted(len(carried) for carried in queued_messages(broker)) == [5, BATCH_SIZE]


def test_a_commit_of_thousands_of_deliveries_costs_a_few_wake_ups_not_one_per_batch(app, make_endpoint, broker):
    from tasks.deliveries import WAKE_FANOUT

    make_endpoint()
    broker.flush_all()
    ids = send_many(app, 10 * BATCH_SIZE)
    assert queued_delivery_ids(broker) == sorted(ids)  # every delivery is named once (hints for the gated path)
    assert len(queued_messages(broker)) == WAKE_FANOUT < 10


def test_deliveries_due_at_one_later_moment_are_woken_together_and_never_early(app, broker):
    from dramatiq.message import Message

    from app.outbox import enqueue_after_commit
    from tasks.deliveries import WAKE_FANOUT

    broker.flush_all()
    ids = [f"dlv_{n:04d}" for n in range(100)]
    with app.app_context():
        for n, delivery_id in enumerate(ids):
            enqueue_after_commit(db.session, delivery_id, 5.0 + n / 1000)  # due within 0.1 s of each other
        db.session.commit()
    assert queued_delivery_ids(broker) == ids
    assert len(queued_messages(broker)) <= 2 * WAKE_FANOUT  # not one per delivery
    delayed = [Message.decode(data) for data in list(broker.queues["webhooks.DQ"].queue)] \
        if isinstance(getattr(broker, "queues", None), dict) else []  # the in-memory broker shows its delay queue
    for message in delayed:  # in-memory broker: each wakes its deliveries no earlier than the latest is due
        carried = message.args[0] if isinstance(message.args[0], list) else [message.args[0]]
        latest = max(int(i[4:]) for i in carried) / 1000 + 5.0
        assert message.options["eta"] - message.message_timestamp >= latest * 1000 - 1


def test_duplicate_batch_messages_send_each_delivery_once(app, make_endpoint, receiver, broker, worker):
    make_endpoint()
    receiver.default = Reply(200, delay=0.2)
    ids = send_many(app, 3)
    for _ in range(3):
        deliver_webhooks.send(ids)
    broker.join(deliver_webhooks.queue_name)
    worker.join()
    assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(
        load(app, i).message_id for i in ids)
    assert [len(load(app, i).attempts_list) for i in ids] == [1, 1, 1]


def test_a_batch_of_successes_takes_one_statement_to_claim_and_one_to_record_each_on_postgresql(app, make_endpoint,
                                                                                                 receiver, monkeypatch):
    from sqlalchemy import event

    from app.delivery import operational

    make_endpoint()
    attempt_all(app, send_many(app, 1))  # the endpoint has just succeeded: healthy, nothing to update on it
    ids = send_many(app, 5)
    statements = []
    monkeypatch.setitem(app.config, "OPERATIONAL_CACHE_SECONDS", 3600)  # no refresh of a cache midway (busy machine)
    monkeypatch.setattr(operational, "_wanted", (0.0, frozenset()))
    with app.app_context():
        operational.wanted()

    def seen(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # SQLite's own BEGIN IMMEDIATE (app.extensions)
            statements.append(statement.split()[0])

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            attempt_deliveries(ids)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        postgres = engine.dialect.name == "postgresql"
    # PostgreSQL: UPDATE ... RETURNING the claim columns, then WITH moved AS (UPDATE ...) INSERT each attempt as
    # soon as its send ends. SQLite: UPDATE ... RETURNING ids and a SELECT to claim, UPDATE ... FROM and an INSERT
    # to record each.
    assert statements == (["UPDATE"] + ["WITH"] * 5 if postgres else ["UPDATE", "SELECT"] + ["WITH", "INSERT"] * 5)
    assert {load(app, i).status for i in ids} == {DeliveryStatus.SUCCEEDED}


def test_a_rate_limit_is_taken_as_each_request_is_sent_and_holds_the_rest_of_the_batch(app, make_endpoint, receiver,
                                                                                       broker):
    from tasks.rate_limits import throttle

    make_endpoint(rate_limit_per_second=2)
    ids = send_many(app, 5)
    broker.flush_all()
    granted = collections.Counter()  # the second of each request the limit let through

    def counted(endpoint_id, per_second):
        allowed = throttle(endpoint_id, per_second)
        granted[int(time.time())] += allowed
        return allowed

    with app.app_context():
        results = attempt_deliveries(ids, throttle=counted)
    sent = [r for r in results if isinstance(r, RecordedAttempt)]
    held = [load(app, i) for i in ids if load(app, i).attempt_count == 0]
    # Two a second: two, or (when the batch ran across the turn of a second, each attempt recorded as it ends)
    # two in one second and more in the next; never more than two in one second.
    assert len(sent) == len(receiver.requests) == sum(granted.values()) >= 2 and max(granted.values()) == 2
    assert len(held) == 5 - len(sent)
    assert {(d.status, d.held_reason, d.lease_token) for d in held} == {(DeliveryStatus.PENDING, "rate limited", None)}
    assert all(d.next_attempt_at > d.created_at for d in held)
    assert set(queued_delivery_ids(broker)) == {d.id for d in held}  # woken again after the window
