import pytest

from app.delivery.matching import check_event_type, check_patterns, matches
from app.errors import InvalidInput


@pytest.mark.parametrize(("patterns", "event_type", "expected"), [
    (None, "order.created", True),
    ([], "order.created", True),
    (["*"], "anything.at.all", True),
    (["order.created"], "order.created", True),
    (["order.created"], "order.paid", False),
    (["order.*"], "order.paid", True),
    (["order.*"], "order.paid.partially", True),
    (["order.*"], "order", False),
    (["order.*"], "orders.paid", False),
    (["invoice.paid", "order.*"], "invoice.paid", True),
])
def test_filter_patterns(patterns, event_type, expected):
    assert matches(patterns, event_type) is expected


@pytest.mark.parametrize("bad", ["order..created", "order.*.paid", "*.created", "order created", "", "ordér"])
def test_malformed_patterns_are_refused(bad):
    with pytest.raises(InvalidInput, match="event_types"):
        check_patterns([bad])


def test_patterns_are_deduplicated():
    assert check_patterns(["order.*", "order.*", "invoice.paid"]) == ["order.*", "invoice.paid"]


@pytest.mark.parametrize("bad", ["", "order.", ".order", "order created", "x" * 201, 5])
def test_malformed_event_types_are_refused(bad):
    with pytest.raises(InvalidInput, match="event_type"):
        check_event_type(bad)


def test_the_receivers_of_an_event_type_are_matched_once_per_reading_of_the_endpoints(monkeypatch):
    """Each message's event type is matched against every endpoint's filter; a reading of the endpoints remembers
    the answer per event type (so a message to one of 1,000 endpoints does not cost 1,000 matches), in the endpoints'
    order, and forgets everything past MATCHED_TYPES event types."""
    from app.delivery import messages

    receiving = messages.Receiving((("ep_a", ["order.*"]), ("ep_b", None), ("ep_c", ["invoice.paid"])))
    calls = []

    def counted(patterns, event_type):
        calls.append(event_type)
        return matches(patterns, event_type)

    assert receiving.receivers("order.created", counted) == ("ep_a", "ep_b")
    assert receiving.receivers("invoice.paid", counted) == ("ep_b", "ep_c")
    assert len(calls) == 6
    assert receiving.receivers("order.created", counted) == ("ep_a", "ep_b")
    assert len(calls) == 6  # remembered
    assert messages.Receiving(receiving.endpoints).receivers("order.created", counted) == ("ep_a", "ep_b")
    assert len(calls) == 9  # another reading matches afresh

    monkeypatch.setattr(messages, "MATCHED_TYPES", 2)
    receiving.receivers("order.paid", counted)  # a third type: what was remembered is forgotten first
    assert len(receiving.matched) == 1
