"""A TCP proxy on 127.0.0.1 that a test points the product at, to make PostgreSQL or Redis hang or go down
without touching the real (shared) service.

- open: bytes flow both ways.
- frozen: connections are accepted and kept, but no byte is passed on (a server that stopped answering,
  or a network that swallows packets).
- cut: every connection is dropped, and new ones are reset as soon as they are accepted (a server that
  is down or restarting).
"""

import socket
import struct
import threading
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    """Forward 127.0.0.1:<port> to target (host, port); see the module docstring for the states."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self._flowing = threading.Event()
        self._flowing.set()
        self._cut = False
        self._lock = threading.Lock()
        self._sockets = set()
        self._held = []  # connections accepted while frozen: never forwarded, reset when restored
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    @classmethod
    def to(cls, url):
        """A proxy in front of the service of url (redis://, postgresql://...)."""
        parts = urlsplit(url)
        default = {"redis": 6379, "rediss": 6379}.get(parts.scheme, 5432)
        return cls(parts.hostname or "127.0.0.1", parts.port or default)

    @property
    def port(self):
        return self._listener.getsockname()[1]

    def url(self, url):
        """url with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        auth = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{auth + '@' if auth else ''}127.0.0.1:{self.port}"))

    def freeze(self):
        """Hold every byte from now on (connections stay open)."""
        self._flowing.clear()

    def cut(self):
        """Drop every connection and reset new ones."""
        self._cut = True
        self._close_all()

    def restore(self):
        """Back to forwarding (connections accepted while frozen are reset: their clients gave up)."""
        self._cut = False
        self._flowing.set()
        with self._lock:
            held, self._held = self._held, []
        for sock in held:
            _reset(sock)

    def close(self):
        self._cut = True
        self._listener.close()
        self._flowing.set()
        self._close_all()

    def _close_all(self):
        with self._lock:
            sockets, self._sockets = [*self._sockets, *self._held], set()
            self._held = []
        for sock in sockets:
            _reset(sock)

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.accepted += 1
            if self._cut:
                _reset(client)
                continue
            if not self._flowing.is_set():  # frozen: hold the connection, answer nothing, reach nothing
                with self._lock:
                    self._held.append(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                if self._cut:
                    break
                sink.sendall(data)
        except OSError:
            pass
        _reset(source)
        _reset(sink)


def _reset(sock):
    """Close with a reset (RST), as a crashed server's kernel would.

    Shut for reading first: a pump thread blocked in recv() on the socket holds the connection open past close()
    (the kernel drops it only when the last use ends), so a PostgreSQL connection whose client was gone stayed up,
    idle in its transaction, and its locks held the next test's TRUNCATE until pytest's timeout. Shut, the recv()
    returns at once, and the close that follows is the last."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    sock.close()
