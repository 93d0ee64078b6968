import base64
import datetime
from types import SimpleNamespace

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from app.access_log import AccessLogger

_RESPONSE_HEADERS = [("Content-Type", "application/json"), ("X-Frame-Options", "DENY")]


def _line(logger_class, environ, status="202 ACCEPTED", sent=412, access_log_format=None):
    cfg = Config()
    if access_log_format:
        cfg.set("access_log_format", access_log_format)
    logger = logger_class(cfg)
    response = SimpleNamespace(status=status, sent=sent, headers=_RESPONSE_HEADERS)
    request = SimpleNamespace(headers=[("HOST", "example.com"), ("X-REQUEST-ID", "r-1")])
    atoms = logger.atoms(response, request, environ, datetime.timedelta(seconds=1, microseconds=2500))
    atoms["t"] = "[06/Dec/2026:23:59:59 +0000]"  # the clock read by each
    return cfg.access_log_format % logger.atoms_wrapper_class(atoms)


def _environ(**extra):
    return {"REMOTE_ADDR": "10.0.0.7", "REQUEST_METHOD": "POST", "RAW_URI": "/api/v1/messages?x=1",
            "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/api/v1/messages", "QUERY_STRING": "x=1", **extra}


@pytest.mark.parametrize("environ, status, sent", [
    (_environ(), "202 ACCEPTED", 412),
    (_environ(HTTP_REFERER="https://shop.example/", HTTP_USER_AGENT='curl/8 "quoted"'), 401, None),
    (_environ(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"ops:secret").decode()), "500 INTERNAL", 0),
    ({"REQUEST_METHOD": "GET", "RAW_URI": "/", "SERVER_PROTOCOL": "HTTP/1.0"}, "200 OK", 5),
])
def test_an_access_line_is_gunicorns_own(environ, status, sent):
    ours = _line(AccessLogger, environ, status, sent)
    assert ours == _line(glogging.Logger, environ, status, sent)
    assert ours.startswith(f"{environ.get('REMOTE_ADDR', '-')} - ")


def test_another_format_gets_every_field():
    log_format = '%(h)s %({x-request-id}i)s %({content-type}o)s %({path_info}e)s %(L)s'
    ours = _line(AccessLogger, _environ(), access_log_format=log_format)
    assert ours == _line(glogging.Logger, _environ(), access_log_format=log_format)
    assert ours == "10.0.0.7 r-1 application/json /api/v1/messages 1.002500"
