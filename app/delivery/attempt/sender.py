"""The only module that makes outbound HTTP: one POST, a total deadline, a capped body, no redirects.

Addresses are checked where the socket is opened, against the very address it connects to, so a
DNS answer that changes between a check and the connection cannot slip through. requests' timeout
bounds each socket operation, not the whole exchange; a watchdog thread shuts down the socket of an
attempt still running at its deadline, so a receiver trickling bytes cannot hold a worker.
"""

import functools
import heapq
import itertools
import socket
import threading
import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.timeout import Timeout

from app.errors import BlockedAddress
from app.models import ErrorClass

#: Sent as User-Agent on every webhook.
USER_AGENT = "Hookyard-Webhooks/1.0"
#: Headers every webhook carries besides its signature headers.
BASE_HEADERS = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
#: A response header by which a receiver asks something of the delivery (app.delivery.attempt.receiver_control).
DELIVERY_CONTROL_HEADER = "webhook-delivery"
#: The values of DELIVERY_CONTROL_HEADER that mean something: end this delivery's retries, pause the endpoint.
DELIVERY_CONTROLS = frozenset({"abort", "disable"})


@dataclass(frozen=True)
class Outcome:
    """What one HTTP attempt produced; never an exception for 3xx/4xx/5xx."""

    duration_ms: int
    status: int | None = None
    #: The response body's first bytes: up to the body limit, plus one byte when there was more.
    content: bytes | None = None
    error_class: ErrorClass | None = None
    error: str | None = None
    retry_after: str | None = None
    #: What the receiver asked of the delivery in its webhook-delivery header ("abort", "disable"), else None.
    delivery_control: str | None = None

    @property
    def ok(self):
        return self.error_class is None and self.status is not None and 200 <= self.status < 300

    @property
    def body(self):
        """The body as text, for a person to read (undecodable bytes replaced)."""
        return None if self.content is None else self.content.decode("utf-8", errors="replace")


class _Context(threading.local):
    """The attempt running on this thread: its address policy and the connection it uses."""

    policy = None
    attempt = None


_context = _Context()


class _Attempt:
    def __init__(self, deadline):
        self.deadline = deadline
        self.connection = None
        self.expired = False
        self.done = False
        self.lock = threading.Lock()

    def expire(self):
        with self.lock:
            if self.done:
                return
            self.expired = True
            sock = getattr(self.connection, "sock", None)
            if sock is not None:
                try:  # the plain socket call also unblocks a thread inside an SSL read
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass

    def finish(self):
        with self.lock:
            self.done = True


class _Watchdog:
    """One daemon thread that expires attempts past their deadline."""

    def __init__(self):
        self._cond = threading.Condition()
        self._heap = []
        self._seq = itertools.count()
        self._thread = None

    def watch(self, attempt):
        with self._cond:
            heapq.heappush(self._heap, (attempt.deadline, next(self._seq), attempt))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhook-deadline", daemon=True)
                self._thread.start()
            if self._heap[0][2] is attempt:  # due before any other: the thread waits for a later one
                self._cond.notify()

    def _run(self):
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2].done):
                    _, _, attempt = heapq.heappop(self._heap)
                    attempt.expire()
                self._cond.wait(timeout=self._heap[0][0] - now if self._heap else None)


_watchdog = _Watchdog()


class _GuardedConnectionMixin:
    def _new_conn(self):
        """Resolve, keep only allowed addresses, and connect to one of those."""
        try:
            infos = _context.policy.resolve(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        timeout = Timeout.resolve_default_timeout(self.timeout)
        error = None
        for family, kind, proto, _, address in infos:
            sock = socket.socket(family, kind, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(timeout)
                sock.connect(address)
                return sock
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
            except OSError as exc:
                sock.close()
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")

    def request(self, *args, **kwargs):
        attempt = _context.attempt
        if attempt is not None:
            with attempt.lock:
                attempt.connection = self
        return super().request(*args, **kwargs)


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class _Sessions(threading.local):
    """A requests session per thread and address policy, so pooled connections never cross policies."""

    def get(self, policy):
        sessions = self.__dict__.setdefault("by_policy", {})
        if policy not in sessions:
            session = requests.Session()
            session.trust_env = False  # a proxy from the environment would bypass the address checks
            adapter = _GuardedAdapter(pool_connections=16, pool_maxsize=4, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            sessions[policy] = session
        return sessions[policy]


_sessions = _Sessions()


def post(url, body, headers, *, timeout, policy, body_limit):
    """POST body to url once and describe what happened; the whole exchange ends by timeout seconds."""
    started = time.monotonic()
    attempt = _Attempt(started + timeout)
    _context.policy, _context.attempt = policy, attempt
    _watchdog.watch(attempt)
    try:
        response = _sessions.get(policy).send(_prepared(url, body, headers), timeout=(timeout, timeout),
                                              allow_redirects=False, stream=True)
        try:
            data = response.raw.read(body_limit + 1, decode_content=True) or b""
        finally:
            _release(response, complete=len(data) <= body_limit)
        attempt.finish()
        return Outcome(
            duration_ms=_elapsed_ms(started),
            status=response.status_code,
            content=data,
            error_class=None if 200 <= response.status_code < 300 else ErrorClass.HTTP,
            error=None if 200 <= response.status_code < 300 else _status_text(response),
            retry_after=response.headers.get("Retry-After"),
            delivery_control=_delivery_control(response.headers.get(DELIVERY_CONTROL_HEADER)),
        )
    except Exception as exc:  # noqa: BLE001  every failure becomes a recorded outcome
        attempt.finish()
        error_class, text = _classify(exc, attempt.expired, timeout)
        return Outcome(duration_ms=_elapsed_ms(started), error_class=error_class, error=text)
    finally:
        _context.policy = _context.attempt = None


@functools.lru_cache(maxsize=1024)
def _template(url):
    """A POST to url with the base headers and no body, prepared once (parsing the URL is the costly part)."""
    request = requests.PreparedRequest()
    request.prepare(method="POST", url=url, headers=BASE_HEADERS)  # InvalidURL, MissingSchema: a config error
    return request


def _prepared(url, body, headers):
    """The request for one attempt: no cookies, auth or hooks of the session merged in, only what is given."""
    request = _template(url).copy()
    request.headers.update(headers)
    request.body = body.encode() if isinstance(body, str) else body
    request.headers["Content-Length"] = str(len(body))
    return request


def _delivery_control(value):
    """The receiver's delivery control word, lower-cased; None for a missing or unknown one."""
    word = (value or "").strip().lower()
    return word if word in DELIVERY_CONTROLS else None


def _release(response, complete):
    """Hand a fully read connection back to the pool; drop one with unread bytes."""
    if complete and response.raw.isclosed():
        response.raw.release_conn()
    else:
        response.close()


def _elapsed_ms(started):
    return int((time.monotonic() - started) * 1000)


def _status_text(response):
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


def _classify(exc, expired, timeout):
    """Map an exception from one attempt to an error class and a one-line text."""
    if isinstance(exc, BlockedAddress):
        return ErrorClass.BLOCKED, exc.message
    if expired or isinstance(exc, requests.Timeout):
        return ErrorClass.TIMEOUT, f"no complete response within {timeout:g} s"
    if isinstance(exc, requests.exceptions.SSLError):
        return ErrorClass.TLS, f"TLS error: {_root_cause(exc)}"
    if isinstance(exc, (requests.ConnectionError, OSError)):
        return ErrorClass.CONNECTION, f"connection error: {_root_cause(exc)}"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return ErrorClass.CONFIG, f"invalid URL: {exc}"
    return ErrorClass.CONNECTION, f"{type(exc).__name__}: {exc}"


def _root_cause(exc):
    """Return the innermost reason text, e.g. "[Errno 111] Connection refused"."""
    seen = exc
    while True:
        inner = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
        if inner is None or inner is seen or not isinstance(inner, BaseException):
            break
        seen = inner
    text = str(seen)
    if "Failed to establish a new connection: " in text:
        text = text.split("Failed to establish a new connection: ", 1)[1]
    return text[:500]
