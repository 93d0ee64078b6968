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
