"""Receiving through real HTTP on 127.0.0.1: a storm of identical deliveries is one event, and an oversized body is
refused before it is read, whether its length is announced or it comes chunked."""

import http.client
import socket
import threading
import time

from tests.inbound import signing
from tests.inbound.conftest import SHOPIFY_SECRET
from tests.support.live import serving

BODY = signing.body_of({"id": 5123, "order_number": 1001, "note": "x" * 1800})
#: Identical deliveries sent at once; PostgreSQL (TEST_DATABASE_URL) is where the race is real.
STORM = 200


def post(port, path, body, headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_identical_deliveries_at_once_make_one_event(app, make_source, stored, enqueued):
    make_source("shop")
    headers = signing.shopify(SHOPIFY_SECRET, BODY, webhook_id="wh-storm")
    answers, start = [], threading.Barrier(STORM)

    def deliver():
        start.wait()
        answers.append(post(port, "/inbound/shop", BODY, headers))

    with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])
        threads = [threading.Thread(target=deliver) for _ in range(STORM)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    assert len(answers) == STORM and {status for status, _ in answers} == {200}, answers[:3]
    kinds = sorted(b'"accepted"' in body for _, body in answers)
    assert kinds.count(True) == 1
    (event,) = stored.events()
    assert event.duplicate_count == STORM - 1
    assert enqueued == [(event.id, "received")]
    assert (stored.count("shop", "received"), stored.count("shop", "duplicate")) == (1, STORM - 1)


def test_announced_oversized_body_is_refused_before_it_is_sent(app, make_source, stored):
    make_source("shop")
    app.config["INBOUND_MAX_BODY_BYTES"] = 1024 * 1024
    with serving(app) as url, socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as sock:
        sock.sendall(b"POST /inbound/shop HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 50000000\r\n\r\n")  # 50 MB announced, none of it sent
        reply = b""
        while chunk := sock.recv(65536):  # the server answers and closes: the rest is never read
            reply += chunk

    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b'"reason":"too_large"' in reply.replace(b" ", b"")
    assert stored.events() == [] and stored.rejections()[0].body_bytes == 50_000_000


def test_chunked_oversized_body_is_cut_off_at_the_limit(app, make_source, stored):
    make_source("shop")
    app.config["INBOUND_MAX_BODY_BYTES"] = 64 * 1024
    chunk = b"x" * 16384

    def chunks():
        for _ in range(64):  # 1 MB offered, in chunks, with no Content-Length
            yield chunk
            time.sleep(0)

    with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", "/inbound/shop", chunks(), {"Content-Type": "application/json"},
                               encode_chunked=True)
            response = connection.getresponse()
            status, body = response.status, response.read()
        except (BrokenPipeError, ConnectionResetError):
            status, body = None, b""  # the server closed before the client finished sending: also refused
        finally:
            connection.close()

    if status is not None:
        assert status == 413 and b"too_large" in body
    assert stored.events() == []
    (rejection,) = stored.rejections()
    assert rejection.reason == "too_large" and rejection.body_bytes is None


def test_chunked_body_under_the_limit_is_received(app, make_source, stored):
    make_source("shop")
    headers = signing.shopify(SHOPIFY_SECRET, BODY)
    with serving(app) as url:
        connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=30)
        connection.request("POST", "/inbound/shop", iter([BODY[:700], BODY[700:]]), headers, encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 200, response.read()
        connection.close()
    assert stored.events()[0].body == BODY
