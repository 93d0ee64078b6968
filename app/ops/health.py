"""Is this deployment able to work: the database and the broker each answer within a short timeout."""

import concurrent.futures

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.ops.version import current_version

#: Threads that run the checks, so a hung database or broker costs a request its timeout and no more.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")


def _database(app):
    with app.app_context():
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))


def _broker(app):
    from tasks.broker import ping  # late import: the web app loads without a worker

    ping()


def _outcome(future, timeout):
    try:
        future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001  any failure means "not ok"; its class says which
        return f"error: {type(exc).__name__}"
    return "ok"


def health():
    """Return (body, ok): each part is "ok" or why not. Nothing secret: no URL, host or message text."""
    app = current_app._get_current_object()
    timeout = app.config["HEALTH_TIMEOUT_SECONDS"]
    futures = {"database": _POOL.submit(_database, app), "broker": _POOL.submit(_broker, app)}
    # The checks run at once, so the whole answer takes at most about one timeout.
    body = {name: _outcome(future, timeout) for name, future in futures.items()}
    ok = all(value == "ok" for value in body.values())
    return {"status": "ok" if ok else "failing", **body, "version": current_version()}, ok
