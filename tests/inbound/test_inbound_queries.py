from datetime import timedelta

import pytest

from app.errors import InvalidInput
from app.extensions import db
from app.inbound.queries import InboundFilter, event_query, known_topics, list_events, status_counts
from app.models import InboundStatus, utcnow
from tests.inbound.sources_helpers import new_event, new_source


@pytest.fixture
def events(app):
    shop, _ = new_source(app, "shop")
    stripe, _ = new_source(app, "stripe", "stripe")
    return {
        "fulfilled": new_event(app, shop, provider_event_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
                               handles=["1005", "5123", "qr-abcd1234"], age_seconds=3600),
        "created": new_event(app, shop, topic="orders/create", status=InboundStatus.PROCESSED, handles=["1006"]),
        "charge": new_event(app, stripe, topic="charge.succeeded", provider_event_id="evt_1NG8Du2eZvKYlo2C",
                            status=InboundStatus.FAILED, age_seconds=2 * 86400),
        "shop": shop, "stripe": stripe,
    }


def ids(app, **filters):
    with app.app_context():
        return [e.id for e in db.session.scalars(event_query(**filters))]


def test_filters_by_source_id_or_name_status_and_topic(app, events):
    assert ids(app, source="shop") == [events["created"], events["fulfilled"]]  # newest first
    assert ids(app, source=events["stripe"]) == [events["charge"]]
    assert ids(app, source="nope") == []
    assert ids(app, status="failed") == [events["fulfilled"], events["charge"]]
    assert ids(app, status=InboundStatus.PROCESSED) == [events["created"]]
    assert ids(app, topic="orders/*") == [events["created"], events["fulfilled"]]
    assert ids(app, topic="charge.succeeded", status="failed", source="stripe") == [events["charge"]]


@pytest.mark.parametrize(("term", "found"), [
    ("#1005", ["fulfilled"]), ("100", ["created", "fulfilled"]), ("QR-ABCD", ["fulfilled"]),
    ("b54557e4", ["fulfilled"]), ("evt_1NG8", ["charge"]), ("EVT_1NG8", []), ("nothing", []),
])
def test_search_by_handle_provider_id_prefix_or_event_id(app, events, term, found):
    assert ids(app, q=term) == [events[k] for k in found]


def test_search_by_event_id_whatever_its_case(app, events):
    assert ids(app, q=events["charge"].lower()) == [events["charge"]]
    assert ids(app, q=events["charge"][:8]) == []  # an id is matched whole


def test_received_range_takes_days_whole_and_moments(app, events):
    today = utcnow().date()
    assert events["created"] in ids(app, received_from=today.isoformat())
    assert events["charge"] not in ids(app, received_from=(today - timedelta(days=1)).isoformat())
    assert ids(app, received_to=(today - timedelta(days=2)).isoformat()) == [events["charge"]]
    since = (utcnow() - timedelta(minutes=30)).isoformat()
    assert ids(app, received_from=since) == [events["created"]]
    assert ids(app, received_from=utcnow() - timedelta(days=3), received_to=utcnow() - timedelta(days=1)) == [
        events["charge"]]


@pytest.mark.parametrize("bad", [{"status": "done"}, {"received_from": "yesterday"}, {"received_to": "2026-02-30"},
                                 {"q": "x" * 201}, {"received_to": "9999-12-31"}])
def test_bad_filters_name_the_field(app, bad):
    with pytest.raises(InvalidInput) as refused:
        InboundFilter.make(**bad)
    assert refused.value.field == next(iter(bad))


def test_status_counts_ignore_the_status_asked_for(app, events):
    with app.app_context():
        assert status_counts(source="shop", status="failed") == {
            "all": 2, "received": 0, "processing": 0, "processed": 1, "failed": 1, "ignored": 0}
        assert status_counts(InboundFilter.make(q="evt_"))["failed"] == 1
        assert status_counts()["all"] == 3
        assert known_topics() == ["charge.succeeded", "orders/create", "orders/fulfilled"]


def test_pages(app, events):
    with app.app_context():
        first, more = list_events(InboundFilter(), page=1, per_page=2)
        last, no_more = list_events(InboundFilter(), page=2, per_page=2)
    assert ([e.id for e in first + last], more, no_more) == (
        [events["created"], events["fulfilled"], events["charge"]], True, False)
