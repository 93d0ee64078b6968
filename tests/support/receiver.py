"""A real HTTP server on 127.0.0.1 that records webhooks and answers as a test tells it to."""

import collections
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    trickle: float = 0.0  # seconds between single bytes of the body (a slow-loris receiver)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float
    peer_port: int = 0
    wall: float = 0.0  # time.time() on arrival, comparable across processes


#: Seconds between the server's looks at whether it is asked to stop: close() waits up to this long, once per test.
POLL_SECONDS = 0.02


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a sender hanging up at its deadline is expected here


class Receiver:
    """Records every POST; replies from a queue of Reply objects, then with the default."""

    def __init__(self):
        self.requests = []
        self.replies = collections.deque()
        self.default = Reply()
        #: answer(Received) -> Reply or None: a reply chosen by the request (None: the queue, then the default).
        self.answer = None
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(POLL_SECONDS,), daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server.server_address[1]

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def reply(self, *replies):
        """Queue replies for the next requests, in order."""
        self.replies.extend(replies)

    def wait_for(self, count, timeout=10.0):
        """Block until count requests have arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
                self._arrived.wait(remaining)
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _next_reply(self, received=None):
        if self.answer and received and (chosen := self.answer(received)) is not None:
            return chosen
        with self._lock:
            return self.replies.popleft() if self.replies else self.default

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received = Received(self.path, dict(self.headers), body, time.monotonic(), self.client_address[1],
                                    time.time())
                with receiver._arrived:
                    receiver.requests.append(received)
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                    receiver._arrived.notify_all()
                try:
                    self._answer(receiver._next_reply(received))
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

            def _answer(self, reply):
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                try:
                    if reply.trickle:
                        for i in range(len(reply.body)):
                            self.wfile.write(reply.body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(reply.body)
                except OSError:
                    pass  # the sender hung up (its deadline passed)

        return Handler


def closed_port():
    """A port on 127.0.0.1 nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
