import socket
import time

import pytest

from app.delivery.attempt import sender
from app.delivery.attempt.addresses import AddressPolicy
from app.models import ErrorClass
from tests.support.receiver import Reply

LOOPBACK = AddressPolicy(["127.0.0.0/8", "::1/128"])


def post(url, *, timeout=5, policy=LOOPBACK, body_limit=20480, headers=None):
    return sender.post(url, b'{"a":1}', headers or {"webhook-id": "msg_1"}, timeout=timeout, policy=policy,
                       body_limit=body_limit)


def test_success_records_status_and_body(receiver):
    receiver.reply(Reply(200, b"thanks"))
    outcome = post(receiver.url())
    assert outcome.ok and outcome.status == 200 and outcome.body == "thanks" and outcome.error_class is None
    (request,) = receiver.requests
    assert request.body == b'{"a":1}'
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_1"
    assert request.headers["User-Agent"].startswith("Hookyard")


def test_server_error_is_an_http_failure_with_the_body_kept(receiver):
    receiver.reply(Reply(503, b"down for maintenance", headers={"Retry-After": "30"}))
    outcome = post(receiver.url())
    assert not outcome.ok
    assert (outcome.status, outcome.error_class, outcome.body) == (503, ErrorClass.HTTP, "down for maintenance")
    assert outcome.error == "HTTP 503 Service Unavailable"
    assert outcome.retry_after == "30"


def test_redirects_are_not_followed(receiver):
    receiver.reply(Reply(302, b"", headers={"Location": receiver.url("/elsewhere")}))
    outcome = post(receiver.url())
    assert outcome.status == 302 and outcome.error_class is ErrorClass.HTTP
    assert [r.path for r in receiver.requests] == ["/hook"]  # post is synchronous: a followed one would be here


def test_response_body_is_read_only_up_to_the_limit(receiver):
    receiver.reply(Reply(200, b"x" * 200_000))
    outcome = post(receiver.url(), body_limit=1024)
    assert outcome.ok and len(outcome.content) == 1025  # the limit, and one byte to show there was more


def test_a_receiver_trickling_its_body_cannot_hold_the_sender_past_the_deadline(receiver):
    receiver.reply(Reply(200, b"y" * 50, trickle=0.2))  # ten seconds of body, one byte at a time
    started = time.monotonic()
    outcome = post(receiver.url(), timeout=1)
    elapsed = time.monotonic() - started
    assert outcome.error_class is ErrorClass.TIMEOUT
    # Held to about the 1 s deadline, far from the 10 s the body takes (room for a busy machine in between)
    assert elapsed < 5, f"took {elapsed:.2f}s"
    assert 900 <= outcome.duration_ms < 5000


def test_a_receiver_that_never_answers_times_out(receiver):
    receiver.reply(Reply(200, delay=5))
    outcome = post(receiver.url(), timeout=1)
    assert outcome.error_class is ErrorClass.TIMEOUT
    assert outcome.error == "no complete response within 1 s"


def test_a_closed_port_is_a_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome = post(f"http://127.0.0.1:{port}/hook")
    assert outcome.error_class is ErrorClass.CONNECTION
    assert "refused" in outcome.error.lower()
    assert outcome.status is None


def test_an_unresolvable_host_is_a_connection_error():
    outcome = post("http://no-such-host.invalid/hook")
    assert outcome.error_class is ErrorClass.CONNECTION


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_is_blocked_unless_allowed_and_nothing_is_sent(receiver, host):
    outcome = post(f"http://{host}:{receiver.port}/hook", policy=AddressPolicy())
    assert outcome.error_class is ErrorClass.BLOCKED
    assert "WEBHOOK_ALLOWED_NETWORKS" in outcome.error
    assert receiver.requests == []


def test_the_address_checked_is_the_address_connected(receiver, monkeypatch):
    # A name that resolves to an allowed address on one lookup and a refused one on the next cannot
    # slip through: the sender resolves once, checks, and connects to exactly what it checked.
    real = socket.getaddrinfo
    answers = iter([[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", receiver.port))]])

    def resolve_once(host, *args, **kwargs):
        if host == "rebind.test":
            return next(answers)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve_once)
    outcome = post(f"http://rebind.test:{receiver.port}/hook", policy=AddressPolicy(["127.0.0.1/32"]))
    assert outcome.ok
    assert receiver.requests[0].headers["Host"] == f"rebind.test:{receiver.port}"


def test_connections_are_kept_alive_between_attempts(receiver):
    for _ in range(3):
        assert post(receiver.url()).ok
    assert len({r.peer_port for r in receiver.requests}) == 1
