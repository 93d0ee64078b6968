import json
import logging

from app.logs import JsonFormatter, configure_logging
from tests.support.factories import send


def test_one_json_line_per_attempt_with_ids_status_and_duration_and_no_secret(app, make_endpoint, receiver,
                                                                              broker, worker, caplog):
    endpoint = make_endpoint(url=receiver.url("/hook?token=s3cr3t"), headers={"Authorization": "Bearer x-secret"})
    with caplog.at_level(logging.INFO, logger="hookyard.events"):
        _, (delivery_id,) = send(app)
        broker.join("webhooks")
        worker.join()
    (record,) = [r for r in caplog.records if r.name == "hookyard.events"]
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "attempt" and line["delivery_id"] == delivery_id and line["endpoint_id"] == endpoint.id
    assert line["status"] == "succeeded" and line["http_status"] == 200 and line["attempt"] == 1
    assert isinstance(line["duration_ms"], int) and line["level"] == "info"
    text = json.dumps(line)
    assert "s3cr3t" not in text and "x-secret" not in text and endpoint.secret not in text
    assert line["endpoint_url"] == f"http://127.0.0.1:{receiver.port}/hook"


def test_log_format_json_turns_every_handler_to_json_lines(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], [h.formatter for h in root.handlers], root.level
    try:
        root.handlers = []
        configure_logging("json")
        logging.getLogger("hookyard.test").warning("hello %s", "there", extra={"delivery_id": "dlv_1"})
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
        assert line["message"] == "hello there" and line["delivery_id"] == "dlv_1" and line["level"] == "warning"
    finally:
        root.handlers, formatters, root.level = saved
        for handler, formatter in zip(root.handlers, formatters, strict=True):
            handler.setFormatter(formatter)
