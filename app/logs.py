"""Logging: one structured line per attempt and per inbound event; JSON lines when LOG_FORMAT=json.

Only facts safe to show go into a line: ids, endpoint, status, error class, duration. Never a URL's
query string, a header, a payload or a response body (they may carry secrets).
"""

import json
import logging
import sys
from datetime import UTC, datetime
from urllib.parse import urlsplit

#: The logger every per-attempt and per-inbound-event line goes to.
events = logging.getLogger("hookyard.events")

#: Attributes every LogRecord has; anything else on a record is an extra field of the event.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message and the record's extra fields."""

    def format(self, record):
        line = {"at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(log_format):
    """Log INFO and above to stderr, as JSON lines when log_format is "json".

    Handlers already there (the dramatiq CLI's, gunicorn's) are kept and, for JSON, given the JSON
    formatter; a process without any gets one. Safe to call more than once.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
        if log_format != "json":
            root.handlers[0].setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if log_format == "json":
        for handler in root.handlers:
            handler.setFormatter(JsonFormatter())
    root.setLevel(logging.INFO)


def _endpoint_host(url):
    """The receiver's scheme, host and path, never its query string (a token may hide there)."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}" if parts.netloc else ""


def log_attempt(values):
    """Log one recorded attempt (values: the attempt's columns as the pipeline writes them)."""
    error_class = values.get("error_class")
    error_class = getattr(error_class, "value", error_class)
    trigger = values.get("trigger")
    fields = {
        "event": "attempt", "delivery_id": values["delivery_id"], "endpoint_id": values.get("endpoint_id"),
        "endpoint_url": _endpoint_host(values.get("request_url")), "attempt": values.get("number"),
        "trigger": getattr(trigger, "value", trigger), "status": "failed" if error_class else "succeeded",
        "http_status": values.get("response_status"), "error_class": error_class,
        "duration_ms": values.get("duration_ms"), "will_retry": bool(values.get("will_retry")),
    }
    events.info("attempt %s #%s to %s: %s in %s ms", fields["delivery_id"], fields["attempt"],
                fields["endpoint_url"], error_class or fields["http_status"], fields["duration_ms"], extra=fields)


def log_inbound_event(*, event_id, source_id, provider, topic, status, duration_ms=None, duplicate=False):
    """Log one inbound event as it settled (status: received, processed, failed, ignored)."""
    fields = {"event": "inbound", "inbound_event_id": event_id, "source_id": source_id, "provider": provider,
              "topic": topic, "status": status, "duplicate": duplicate, "duration_ms": duration_ms}
    events.info("inbound %s from %s (%s): %s", event_id, provider, topic, status, extra=fields)
