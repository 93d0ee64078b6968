"""Serve an app over real HTTP on 127.0.0.1 from a background thread (browser and contract tests)."""

import threading
from contextlib import contextmanager

from werkzeug.serving import WSGIRequestHandler, make_server

#: Seconds between the server's looks at whether it is asked to stop (Werkzeug's default: 0.5): the end of serving
#: waits up to this long.
POLL_SECONDS = 0.02


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass  # one line per request drowns a failure's output; errors are still logged


@contextmanager
def serving(app):
    """Serve app on a free port; yield its base URL, e.g. http://127.0.0.1:45123."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
