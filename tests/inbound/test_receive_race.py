"""PostgreSQL: a repeat of an event whose first copy commits while the repeat is being written is still counted on
that first copy (the one-statement write cannot see a row committed after its snapshot, and counts it apart); also
a replay of its body under a fresh delivery id (app.inbound.replays)."""

import threading

import pytest
from sqlalchemy import insert, text

from app.extensions import db
from app.inbound import replays
from app.models import utcnow
from app.models.inbound import InboundEvent, InboundStatus
from tests.inbound import signing
from tests.inbound.conftest import SHOPIFY_SECRET
from tests.support.waiting import wait_until

BODY = signing.body_of({"id": 5123, "order_number": 1001})


@pytest.mark.parametrize("repeat_id", ["wh-race", "wh-fresh"])
def test_repeat_racing_the_first_copys_commit_is_counted_on_it(app, client, make_source, stored, enqueued,
                                                                repeat_id, postgres_url):
    source = make_source("shop")  # postgres_url: the race needs PostgreSQL's row locks
    with app.app_context():
        first = db.engine.connect()
        watcher = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        transaction = first.begin()  # the first copy, written by another request and not committed yet
        first.execute(insert(InboundEvent.__table__).values(
            id="in_first", source_id=source.id, provider_event_id="wh-race", received_at=utcnow(), body=BODY,
            body_bytes=len(BODY), headers={}, status=InboundStatus.RECEIVED, attempts=0, duplicate_count=0,
            body_digest=replays.body_digest("shopify", BODY)))
        answers = []
        repeat = threading.Thread(target=lambda: answers.append(client.post(
            "/inbound/shop", data=BODY, headers=signing.shopify(SHOPIFY_SECRET, BODY, webhook_id=repeat_id))))
        repeat.start()
        wait_until(lambda: watcher.execute(text(  # the repeat waits on the first copy's row lock
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = "
            "'Lock'")).scalar(), message="the repeat never waited for the first copy")
        transaction.commit()
        repeat.join(10)
    finally:
        first.close()
        watcher.close()

    assert answers[0].status_code == 200 and answers[0].json == {"status": "duplicate", "id": "in_first"}
    (event,) = stored.events()
    assert event.duplicate_count == 1 and event.last_duplicate_at is not None
    assert enqueued == []
    assert (stored.count("shop", "received"), stored.count("shop", "duplicate")) == (0, 1)
