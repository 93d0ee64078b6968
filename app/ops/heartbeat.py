"""Worker heartbeats: each worker process says who it is and that it is alive, every tick."""

import os
import socket
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import WorkerHeartbeat, utcnow
from app.ops.version import current_version


def beat(identity, *, threads, queues, started_at):
    """Write this process's heartbeat row (identity: host:pid:start); commit."""
    now = utcnow()
    row = db.session.get(WorkerHeartbeat, identity)
    if row is None:
        row = WorkerHeartbeat(id=identity, host=socket.gethostname(), pid=os.getpid(), started_at=started_at)
        db.session.add(row)
    row.version, row.threads, row.queues, row.last_seen_at = current_version(), threads, list(queues), now
    db.session.commit()


def alive_after():
    """The moment a heartbeat must be newer than to count as alive (three ticks, at least 30 s)."""
    return utcnow() - timedelta(seconds=max(3 * current_app.config["PERIODIC_TICK_SECONDS"], 30))


def alive():
    """Return the heartbeat rows of workers alive now, oldest first."""
    return db.session.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at >= alive_after())
                              .order_by(WorkerHeartbeat.started_at)).all()


def stop(identity):
    """Remove a stopping process's heartbeat, so it stops counting as alive at once; commit."""
    row = db.session.get(WorkerHeartbeat, identity)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
