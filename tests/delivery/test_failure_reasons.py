"""A receiver's reason for refusing a webhook, read from its response body for the staff pages."""

import pytest

from app.delivery.failure_reasons import EXCERPT_CHARS, last_reasons, reason_excerpt, recent_errors
from tests.delivery.test_attempts import attempt
from tests.support.factories import send
from tests.support.receiver import Reply


@pytest.mark.parametrize("body, reason", [
    ('{"error": "unknown sku"}', "unknown sku"),
    ('{"error": {"code": 17, "message": "order already closed"}}', "order already closed"),
    ('{"type": "about:blank", "title": "Invalid", "detail": "total must be positive"}', "total must be positive"),
    ('{"errors": [{"message": "email is taken"}]}', "email is taken"),
    ('{"ok": false}', None),
    ('{"error": "cut sho', None),
    ("\n\n  Service paused for maintenance  \nretry later", "Service paused for maintenance"),
    ("<html><body><h1>502 Bad Gateway</h1></body></html>", "502 Bad Gateway"),
    ("   ", None),
    (None, None),
])
def test_reason_excerpt_reads_the_receivers_words(body, reason):
    assert reason_excerpt(body) == reason


def test_a_long_reason_is_cut_to_one_short_line():
    reason = reason_excerpt('{"message": "' + "too long\\n " * 100 + '"}')
    assert len(reason) == EXCERPT_CHARS and reason.endswith("…") and "\n" not in reason


def test_last_reasons_and_recent_errors_read_the_last_failed_attempt(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    receiver.reply(Reply(422, b'{"error": "unknown sku <b>A-1</b>"}'))
    _, (refused,) = send(app)
    assert attempt(app, refused)
    receiver.reply(Reply(200, b'{"message": "thanks"}'))
    _, (accepted,) = send(app)
    assert attempt(app, accepted)
    with app.app_context():
        assert last_reasons([refused, accepted]) == {refused: "unknown sku <b>A-1</b>"}  # the page escapes it
        (latest,) = recent_errors(endpoint.id)
        assert (latest.delivery_id, latest.error, latest.reason) == (
            refused, "HTTP 422 Unprocessable Entity", "unknown sku <b>A-1</b>")
        assert last_reasons([]) == {}
