"""gunicorn's access log (the Procfile's `--access-logfile -`), each line built from only the fields it shows.

gunicorn builds every line from a dict of every field any format could name: each request and response header and
each WSGI environ variable, each escaped, about a twentieth of a warm `POST /api/v1/messages`' CPU. Its default
format names nine of them; a line in that format is the same line built from those nine.
"""

from gunicorn import glogging
from gunicorn.config import AccessLogFormat

#: gunicorn's default access log format, the fields it names, and what the web command logs.
DEFAULT_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
if AccessLogFormat.default != DEFAULT_FORMAT:  # IMPORTANT: check AccessLogger.atoms against gunicorn's Logger.atoms
    raise ImportError("gunicorn's default access log format changed; app.access_log needs updating")


class AccessLogger(glogging.Logger):
    """gunicorn's logger; an access line in the default format gets only its own fields."""

    def atoms(self, resp, req, environ, request_time):
        """The fields of DEFAULT_FORMAT, with gunicorn's values; every field for any other format."""
        if self.cfg.access_log_format != DEFAULT_FORMAT:
            return super().atoms(resp, req, environ, request_time)
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        return {
            "h": environ.get("REMOTE_ADDR", "-"), "l": "-", "u": self._get_user(environ) or "-", "t": self.now(),
            "r": f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}", "s": status,
            "b": sent is not None and str(sent) or "-",
            "f": environ.get("HTTP_REFERER", "-"), "a": environ.get("HTTP_USER_AGENT", "-"),
        }
