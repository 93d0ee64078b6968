import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app import json_text
from app.models import DeliveryStatus

MOMENT = datetime(2026, 12, 7, 22, 15, 3, 120456, tzinfo=UTC)


def test_rows_read_back_as_the_standard_library_writes_them():
    rows = [{"id": "dlv_1", "status": DeliveryStatus.PENDING, "attempt_count": 0, "held_reason": None,
             "created_at": MOMENT, "next_attempt_at": MOMENT.astimezone(timezone(timedelta(hours=7))),
             "whole_second": MOMENT.replace(microsecond=0), "reference": "Đơn #1 💥", "tags": ["a", "b"]}]

    text = json_text.dumps(rows, default=lambda value: value.value if hasattr(value, "value") else value.isoformat())

    assert text == ('[{"id":"dlv_1","status":"pending","attempt_count":0,"held_reason":null,'
                    '"created_at":"2026-12-07T22:15:03.120456+00:00","next_attempt_at":"2026-12-08T05:15:03.120456+07:00",'
                    '"whole_second":"2026-12-07T22:15:03+00:00","reference":"Đơn #1 💥","tags":["a","b"]}]')


@pytest.mark.parametrize("value", [{"n": 2 ** 70}, {1: "a key that is not text"}, {"s": "lone \ud800"}])
def test_what_orjson_refuses_is_written_by_the_standard_library(value):
    assert json_text.dumps(value) == json.dumps(value)
