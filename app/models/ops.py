"""Rows the product keeps about itself: worker heartbeats, periodic runs, alert states, published metrics."""

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class WorkerHeartbeat(db.Model):
    """One worker process, as it last said it was alive."""

    __tablename__ = "worker_heartbeats"

    #: host:pid:start time, so a restarted process with a reused pid is a new row.
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(64))
    threads: Mapped[int] = mapped_column(Integer)
    queues: Mapped[list] = mapped_column(JSON, default=list)
    started_at = mapped_column(UTCDateTime, nullable=False)
    last_seen_at = mapped_column(UTCDateTime, nullable=False, index=True)


class PeriodicRun(db.Model):
    """A piece of periodic work: who holds its lease, and how its last run went."""

    __tablename__ = "periodic_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The process running it now (host:pid), until lease_expires_at.
    holder: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at = mapped_column(UTCDateTime)
    last_started_at = mapped_column(UTCDateTime)
    last_finished_at = mapped_column(UTCDateTime)
    #: What the last run returned (counts, a snapshot of figures), JSON-ready.
    last_result: Mapped[dict | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)


class AlertState(db.Model):
    """Whether one alert rule is firing for one subject (an endpoint, "overall", the backlog)."""

    __tablename__ = "alert_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    firing: Mapped[bool] = mapped_column(Boolean, default=False)
    since = mapped_column(UTCDateTime)
    summary: Mapped[str | None] = mapped_column(String(1000))
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class MetricSample(db.Model):
    """The Prometheus counters of one process, as last published, so every machine's counts add up."""

    __tablename__ = "metric_samples"

    #: host:boot:pid of the process whose counters these are ("retired" for folded-in old processes).
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: The sum of every counter value; it only grows for one source, so an older copy never overwrites a newer.
    seq: Mapped[float] = mapped_column(Float, default=0.0)
    #: {"name|label=value,...": value} for each counter and histogram sample.
    samples: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
