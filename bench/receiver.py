"""A fast webhook receiver for benchmarks: HTTP/1.1 keep-alive on asyncio, answers 200 "ok" to any POST.

It runs in its own process so it is never the bottleneck of what it measures:

    python bench/receiver.py --port 8765          # serve until interrupted
    python bench/receiver.py --measure 3          # serve in a child process and report its capacity

The first line printed when serving is `listening on http://127.0.0.1:PORT/` (with --port 0 the
port is chosen by the system). `GET /stats` answers {"posts": N}, the POSTs received so far.
"""

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)
_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
_BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Stats:
    """Counts POSTs across all connections (one event loop, so no lock is needed)."""

    posts = 0


class ReceiverProtocol(asyncio.Protocol):
    """One connection: parse requests from the byte stream and answer each as soon as its body is in."""

    def __init__(self):
        self.buffer = bytearray()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while self._answer_one():
            pass

    def _answer_one(self):
        """Answer the first complete request in the buffer; return False when more bytes are needed."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end])
        match = _CONTENT_LENGTH.search(head)
        size = int(match.group(1)) if match else 0
        if len(self.buffer) < end + 4 + size:
            return False
        del self.buffer[:end + 4 + size]
        self.transport.write(self._response(head))
        if _CLOSE.search(head) or not head.startswith((b"POST ", b"GET ")):
            self.transport.close()
            return False
        return True

    @staticmethod
    def _response(head):
        if head.startswith(b"POST "):
            Stats.posts += 1
            return _OK
        if head.startswith(b"GET /stats"):
            body = json.dumps({"posts": Stats.posts}).encode()
            return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
                len(body), body)
        if head.startswith(b"GET "):
            return _OK
        return _BAD


async def serve(host, port):
    """Serve forever, printing the address first."""
    server = await asyncio.get_running_loop().create_server(ReceiverProtocol, host, port, backlog=1024)
    bound = server.sockets[0].getsockname()
    print(f"listening on http://{bound[0]}:{bound[1]}/", flush=True)
    async with server:
        await server.serve_forever()


async def _client(host, port, request, deadline, counts):
    reader, writer = await asyncio.open_connection(host, port)
    while time.monotonic() < deadline:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(int(_CONTENT_LENGTH.search(b"\r\n" + head).group(1)))
        counts[0] += 1
    writer.close()


async def _load(host, port, seconds, connections, body_size):
    body = b"x" * body_size
    request = (b"POST /hook HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
               % (host.encode(), len(body), body))
    counts = [0]
    started = time.monotonic()
    await asyncio.gather(*(_client(host, port, request, started + seconds, counts) for _ in range(connections)))
    return counts[0] / (time.monotonic() - started)


def measure_capacity(seconds=3.0, connections=16, body_size=1024):
    """Start a receiver in a child process, load it from here and return requests/s it answered.

    The load generator is itself one Python process, so the figure is a lower bound.
    """
    proc, url = start(port=0)
    try:
        host, port = url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
        return asyncio.run(_load(host, int(port), seconds, connections, body_size))
    finally:
        proc.terminate()
        proc.wait(10)


def start(port=0, host="127.0.0.1"):
    """Start a receiver process; return (Popen, base URL) once it listens."""
    proc = subprocess.Popen([sys.executable, __file__, "--host", host, "--port", str(port)],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        raise RuntimeError(f"receiver did not start: {line!r}")
    return proc, line.split()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--measure", type=float, metavar="SECONDS", help="report this receiver's capacity")
    args = parser.parse_args()
    if args.measure:
        print(f"receiver capacity: {measure_capacity(args.measure):.0f} requests/s "
              "(16 keep-alive connections, 1 KB bodies, one Python client process)")
        return
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
