"""Is this deployment alive, and is it ready: each part answers within a short timeout.

Liveness (/livez, the platform's probe): this process answers and reaches the database, which is all a web
process needs to accept messages (the sweep sends them once the broker is back). Health (/healthz): the
database and the broker. Readiness (/readyz, for monitoring): those, a worker alive, and a broker that
keeps queued messages under memory pressure.
"""

import concurrent.futures

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.ops.version import current_version


class CheckFailed(Exception):
    """Raised when a part answers but is not fine; its text is ours and meant to be read."""


#: Threads that run the checks, so a hung database or broker costs a request its timeout and no more.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")


def _database(app):
    with app.app_context():
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))


def _broker(app):
    from tasks.broker import ping  # late import: the web app loads without a worker

    ping()


def _workers(app):
    from app.ops.heartbeat import alive

    with app.app_context():
        if not alive():
            raise CheckFailed("no worker alive")


def _broker_eviction(app):
    from app.ops.broker_memory import broker_eviction_warning

    warning = broker_eviction_warning()
    if warning:
        raise CheckFailed(warning)


#: Every check by name; each raises unless its part is fine.
CHECKS = {"database": _database, "broker": _broker, "workers": _workers, "broker_eviction": _broker_eviction}
LIVENESS = ("database",)
HEALTH = ("database", "broker")
READINESS = ("database", "broker", "workers", "broker_eviction")


def _outcome(future, timeout):
    try:
        future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        return f"no answer within {timeout:g} s"
    except CheckFailed as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001  any failure means "not ok"; its class says which
        return f"error: {type(exc).__name__}"
    return "ok"


def health(parts=HEALTH):
    """Return (body, ok) for the checks named in parts: each "ok" or why not. Nothing secret: no URL, host or
    message text from a driver."""
    app = current_app._get_current_object()
    timeout = app.config["HEALTH_TIMEOUT_SECONDS"]
    futures = {name: _POOL.submit(CHECKS[name], app) for name in parts}
    # The checks run at once, so the whole answer takes at most about one timeout.
    body = {name: _outcome(future, timeout) for name, future in futures.items()}
    ok = all(value == "ok" for value in body.values())
    return {"status": "ok" if ok else "failing", **body, "version": current_version()}, ok
