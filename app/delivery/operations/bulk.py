"""Work through every delivery matching a filter in the background, in batches, with progress.

Kinds: "retry" (the monitor's retry-all), "recover" (an endpoint's failed deliveries since a time) and
"wake" (enqueue a resumed endpoint's pending deliveries). Each batch is its own transaction and only
ids are held in memory, so a job over 100,000 rows never becomes one giant transaction. The job keeps
a cursor; a worker that dies mid-job is replaced by the sweep (BULK_JOBS: touched_at + STALL_AFTER is the
job's lease), which resumes from the cursor.
"""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.audit import Action, Actor, record
from app.delivery.operations.deliveries import retry_deliveries
from app.delivery.queries import DeliveryFilter, count_deliveries
from app.extensions import db
from app.models import AttemptTrigger, BulkJob, Delivery, DeliveryAttempt, DeliveryStatus, JobKind, JobStatus, utcnow
from app.outbox import enqueue_after_commit, start_job_after_commit
from app.stored_text import stored
from app.work.leases import take
from app.work.results import OperationResult, SkipReason
from app.work.sweep import Step, Sweepable, signal_each

#: Deliveries retried per transaction.
BATCH_SIZE = 1000
#: A queued or running job not touched for this long is resumed by the sweep.
STALL_AFTER = timedelta(minutes=2)


def failed_matching(flt):
    """Return the filter narrowed to failed deliveries (what "retry all" acts on); resolved ones stay out
    unless the filter asks for them."""
    return flt.replace(status=DeliveryStatus.FAILED, resolved=flt.resolved if flt.resolved is not None else False)


#: The attempt trigger each retrying kind of job records.
TRIGGERS = {JobKind.RETRY: AttemptTrigger.BULK, JobKind.RECOVER: AttemptTrigger.RECOVERY}


def job_actor(job):
    """Who a job's attempts are triggered by: its requester and the job, so its outcome can be read back."""
    return Actor(f"{job.requested_by[:150]} (job {job.id})")


def job_outcomes(job, limit=50):
    """How the attempts a job asked for turned out: {succeeded, failed, waiting, rows: latest attempts}."""
    by = DeliveryAttempt.triggered_by == job_actor(job).name
    succeeded, failed = db.session.execute(select(
        func.count().filter(DeliveryAttempt.error_class.is_(None)),
        func.count().filter(DeliveryAttempt.error_class.is_not(None))).where(by)).one()
    rows = db.session.execute(
        select(DeliveryAttempt.delivery_id, DeliveryAttempt.number, DeliveryAttempt.response_status,
               DeliveryAttempt.error_class, DeliveryAttempt.error, DeliveryAttempt.started_at)
        .where(by).order_by(DeliveryAttempt.started_at.desc()).limit(limit)).all()
    return {"succeeded": succeeded, "failed": failed, "waiting": max(job.changed - succeeded - failed, 0),
            "rows": rows}


def start_bulk_retry(flt, *, actor, kind=JobKind.RETRY, audit_action: Action = Action.DELIVERIES_BULK_RETRY):
    """Create a job retrying every failed delivery matching flt; audited; starts after commit."""
    flt = failed_matching(flt)
    total = count_deliveries(flt)
    job = BulkJob(kind=kind, filters=flt.to_args(), requested_by=actor.name, total=total, touched_at=utcnow())
    db.session.add(job)
    db.session.flush()
    summary = (_l("recover all %(total)s failed deliveries matching the filter", total=total) if kind == JobKind.RECOVER
               else _l("retry all %(total)s failed deliveries matching the filter", total=total))
    record(actor, audit_action, summary,
           target_type="job", target_ids=[job.id], after={"filters": job.filters, "total": total})
    start_job_after_commit(db.session, job.id)
    db.session.commit()
    return job


def _next_batch(job, flt):
    query = (select(Delivery.id).where(*flt.conditions(), Delivery.created_at <= job.created_at)
             .order_by(Delivery.id).limit(BATCH_SIZE))
    if job.cursor:
        query = query.where(Delivery.id > job.cursor)
    return db.session.scalars(query).all()


def _wake(batch):
    for delivery_id in batch:
        enqueue_after_commit(db.session, delivery_id)
    db.session.commit()
    return OperationResult(changed=list(batch))


def run_bulk_job(job_id, cooldown_seconds=None):
    """Work through a job to the end, one committed batch at a time; safe to run again (it resumes)."""
    job = db.session.get(BulkJob, job_id)
    if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
        return job
    job.status, job.started_at = JobStatus.RUNNING, job.started_at or utcnow()
    db.session.commit()
    flt, actor = DeliveryFilter.from_args(job.filters), job_actor(job)
    while batch := _next_batch(job, flt):
        if job.kind == JobKind.WAKE:
            outcome = _wake(batch)
        else:
            outcome = retry_deliveries(batch, trigger=TRIGGERS[job.kind], actor=actor,
                                       cooldown_seconds=cooldown_seconds, audit_action=None)
        skipped, messages = dict(job.skipped or {}), dict(job.skipped_messages or {})
        for reason, count in outcome.skipped_by_reason().items():
            skipped[reason] = skipped.get(reason, 0) + count
            if isinstance(reason, SkipReason):
                messages[reason] = stored(reason.text)
        job.done, job.changed, job.skipped = job.done + len(batch), job.changed + len(outcome.changed), skipped
        job.skipped_messages = messages
        job.cursor, job.touched_at = batch[-1], utcnow()
        db.session.commit()
    job.status, job.finished_at, job.touched_at = JobStatus.DONE, utcnow(), utcnow()
    db.session.commit()
    return job


def _take_stalled(now, cutoff, limit):
    """Take the queued or running jobs nobody has touched for STALL_AFTER (their worker was lost)."""
    stalled = BulkJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)) & (BulkJob.touched_at < now - STALL_AFTER)
    return take(BulkJob, stalled, dict(touched_at=now), limit=limit)


#: The sweep starts a stalled job again; it resumes from its cursor.
BULK_JOBS = Sweepable("bulk jobs", steps=(Step("resumed_jobs", _take_stalled, signal_each(start_job_after_commit)),))


def get_job(job_id):
    """Return the job or None."""
    return db.session.get(BulkJob, job_id)
