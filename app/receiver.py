"""A tiny webhook receiver for trying Hookyard on a laptop: prints each request it gets and answers 200."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: The most of a body printed per request.
SHOWN_BODY_BYTES = 2000
#: The headers worth seeing: the Standard Webhooks ones and the content type.
SHOWN_HEADERS = ("content-type", "webhook-id", "webhook-timestamp", "webhook-signature")


def make_receiver(host, port, echo):
    """Return an HTTP server on host:port that passes a line per request to echo and answers 200."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = " ".join(f"{name}={self.headers[name]}" for name in SHOWN_HEADERS if self.headers.get(name))
            text = body[:SHOWN_BODY_BYTES].decode("utf-8", "replace")
            echo(f"{self.command} {self.path} ({len(body)} bytes) {headers}\n  {text}")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_POST = do_PUT = do_GET = _answer

        def log_message(self, *args):
            pass  # the line above says it all

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
