"""One pipeline: every trigger x outcome writes the same rows whether its delivery is attempted alone or in a batch.

Both CI passes run this (SQLite, then PostgreSQL), against the same expected rows, so the two databases'
statements (claim.py builds PostgreSQL's form of the claim from the same parts) are held to one definition.
"""

import pytest

from app.delivery.attempt.pipeline import attempt_deliveries
from app.models import AttemptTrigger, Delivery, DeliveryStatus, Endpoint, ErrorClass
from tests.support.factories import load, send, update
from tests.support.receiver import Reply

S, P, F = DeliveryStatus.SUCCEEDED, DeliveryStatus.PENDING, DeliveryStatus.FAILED
#: Outcome -> (the receiver's reply or None for a refused connection, response status, error class).
OUTCOMES = {
    "2xx": (Reply(200), 200, None),
    "5xx": (Reply(503), 503, ErrorClass.HTTP),
    "4xx": (Reply(400), 400, ErrorClass.HTTP),
    "refused": (None, None, ErrorClass.CONNECTION),
}
TRIGGERS = [AttemptTrigger.SCHEDULED, AttemptTrigger.MANUAL, AttemptTrigger.BULK, AttemptTrigger.RECOVERY,
            AttemptTrigger.TEST]


def expected(trigger, outcome):
    """The delivery and attempt a single attempt leaves, by the rules in DESIGN.md."""
    _, status_code, error_class = OUTCOMES[outcome]
    scheduled = trigger is AttemptTrigger.SCHEDULED
    retryable = outcome in ("5xx", "refused")
    if outcome == "2xx":
        status = S
    else:  # a one-off attempt from a failed delivery (no resume time) fails again; the chain retries
        status = P if scheduled and retryable else F
    will_retry = status is P
    delivery = (status, 1, int(scheduled), status_code, error_class, None, None, status is not P, None)
    attempt = (1, trigger, None if scheduled else "someone", status_code, error_class, will_retry)
    return delivery, attempt


def observe(app, delivery_id):
    d = load(app, delivery_id)
    delivery = (d.status, d.attempt_count, d.scheduled_attempt_count, d.last_response_status, d.last_error_class,
                d.lease_token, d.held_reason, d.next_attempt_at is None, d.next_trigger)
    (a,) = d.attempts_list
    return delivery, (a.number, a.trigger, a.triggered_by, a.response_status, a.error_class, a.will_retry)


@pytest.fixture
def endpoints(app, make_endpoint, receiver):
    """Three endpoints, one per delivery of a batch, each on a receiver answering as the outcome says."""
    from tests.support.receiver import Receiver

    receivers = [receiver, Receiver(), Receiver()]

    def make(outcome):
        reply = OUTCOMES[outcome][0]
        made = []
        for each in receivers:
            each.default = reply or Reply()
            made.append(make_endpoint(each.url() if reply else "http://127.0.0.1:1/hook").id)
        return made

    yield make
    for each in receivers[1:]:
        each.close()


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_rows_written_depend_on_trigger_and_outcome_only(app, endpoints, outcome):
    endpoint_ids = endpoints(outcome)
    for trigger in TRIGGERS:
        for batch_size in (1, 3):
            ids = []
            for endpoint_id in endpoint_ids:  # each round starts healthy: the breaker is tested elsewhere
                update(app, Endpoint, endpoint_id, consecutive_failures=0, breaker_failures=0,
                       breaker_open_until=None)
            for endpoint_id in endpoint_ids[:batch_size]:
                _, (delivery_id,) = send(app, endpoint_ids=[endpoint_id])
                if trigger is not AttemptTrigger.SCHEDULED:
                    update(app, Delivery, delivery_id, next_trigger=trigger, next_triggered_by="someone")
                ids.append(delivery_id)
            with app.app_context():
                attempt_deliveries(ids)
            rows = [observe(app, i) for i in ids]
            assert rows == [expected(trigger, outcome)] * batch_size, (trigger, batch_size)


def test_the_attempt_columns_are_what_an_attempt_row_is_written_with():
    from app.delivery.attempt.record import ATTEMPT_COLUMNS, attempt_values
    from app.delivery.attempt.sender import Outcome

    claim = type("Claim", (), {"delivery_id": "d", "endpoint_id": "e", "number": 1, "trigger": AttemptTrigger.SCHEDULED,
                               "triggered_by": None, "url": "http://x", "headers": {}, "formatted": None})()
    from flask import Flask

    with Flask(__name__).app_context() as ctx:
        ctx.app.config["WEBHOOK_RESPONSE_BODY_LIMIT_BYTES"] = 10
        row = attempt_values(claim, Outcome(duration_ms=1, status=200), None, will_retry=False, next_at=None)
    assert tuple(row) == ATTEMPT_COLUMNS
