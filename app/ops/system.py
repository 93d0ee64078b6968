"""What the System page and GET /api/v1/system show: workers, queues, periodic runs, versions, warnings."""

from app.delivery.queries import oldest_overdue_seconds
from app.models import utcnow
from app.ops import heartbeat, periodic
from app.ops.version import current_version
from app.queues import ALL as QUEUES

#: The periodic work whose last run is shown.
RUNS = ("sweep", "snapshot", "alerts", "retention", "digest")


def _iso(moment):
    return moment.isoformat() if moment else None


def _queues():
    from tasks.broker import delayed_count, queue_depth  # late import: the web app loads without a worker

    return [{"name": name, "depth": queue_depth(name), "delayed": delayed_count(name)} for name in QUEUES]


def _run(name):
    run = periodic.get_run(name)
    if run is None:
        return {"name": name, "last_started_at": None, "last_finished_at": None, "result": None, "error": None}
    return {"name": name, "last_started_at": _iso(run.last_started_at), "last_finished_at": _iso(run.last_finished_at),
            "result": run.last_result, "error": run.last_error.splitlines()[-1] if run.last_error else None,
            "running_on": run.holder}


def _eviction_warning():
    from app import outages
    from app.ops.broker_memory import broker_eviction_warning

    if not outages.broker.available():
        return None  # unreachable a moment ago: the queues already show as unknown
    try:
        return broker_eviction_warning()
    except Exception:  # noqa: BLE001  informative, as the queue depths
        return None


def _warnings(web_version, workers):
    warnings = []
    eviction = _eviction_warning()
    if eviction:
        warnings.append({"kind": "broker-eviction", "text": eviction})
    if not workers:
        warnings.append({"kind": "no-worker", "text": "No worker is alive: nothing is being sent. Start a worker "
                                                       "process (`dramatiq tasks.worker`)."})
    drift = sorted({w.version for w in workers} - {web_version})
    if drift:
        warnings.append({"kind": "version-drift",
                         "text": f"Versions differ: web runs {web_version}, workers run {', '.join(drift)}. "
                                 "Finish the deploy or restart the workers."})
    return warnings


def system_status():
    """Return the whole picture as JSON-ready data."""
    web_version = current_version()
    workers = heartbeat.alive()
    return {
        "at": utcnow().isoformat(),
        "version": {"web": web_version, "workers": sorted({w.version for w in workers})},
        "workers": [{"host": w.host, "pid": w.pid, "version": w.version, "threads": w.threads, "queues": w.queues,
                     "started_at": _iso(w.started_at), "last_seen_at": _iso(w.last_seen_at)} for w in workers],
        "queues": _queues(),
        "oldest_pending_seconds": oldest_overdue_seconds(),
        "runs": [_run(name) for name in RUNS],
        "warnings": _warnings(web_version, workers),
    }
