import re

from sqlalchemy import update as sa_update

from app.audit import Actor
from app.delivery.attempt.pipeline import attempt_delivery
from app.delivery.operations import bulk
from app.delivery.queries import DeliveryFilter
from app.extensions import db
from app.models import AuditEntry, BulkJob, Delivery, DeliveryStatus, JobStatus, utcnow
from tasks.bulk import run_bulk_job
from tasks.deliveries import deliver_webhook
from tests.support.factories import load, send, update
from tests.support.receiver import Reply


def failed_deliveries(app, count, event_type="order.created"):
    """Deliveries already failed, written in one transaction so no running worker ever sees them pending."""
    from app.delivery.messages import send_message

    with app.app_context():
        ids = [d.id for number in range(count) for d in send_message(event_type, {"n": number})[0].deliveries]
        # send_message hands back snapshots of what it wrote: change the rows themselves, before the commit.
        db.session.execute(sa_update(Delivery).where(Delivery.id.in_(ids)).values(
            status=DeliveryStatus.FAILED, last_response_status=500))
        db.session.commit()
        return ids


def test_confirmation_states_the_exact_count(app, client, staff, make_endpoint):
    first = make_endpoint(name="First", event_types=["order.*"])
    make_endpoint(name="Second", event_types=["invoice.*"])
    failed_deliveries(app, 3)
    failed_deliveries(app, 2, event_type="invoice.paid")
    token = staff("operator")
    html = client.get("/admin/jobs/retry-matching", query_string={"endpoint_id": first.id}).get_data(as_text=True)
    assert re.search(r"data-count>3<", html) and "First" in html
    assert re.search(r"data-count>5<", client.get("/admin/jobs/retry-matching").get_data(as_text=True))
    assert token


def test_retry_all_matching_runs_in_the_background_with_progress(app, client, staff, make_endpoint, receiver,
                                                                 broker, worker):
    make_endpoint()
    ids = failed_deliveries(app, 5)
    _, (other,) = send(app, "order.paid")  # pending, not failed: not part of the job
    token = staff("operator")
    response = client.post("/admin/jobs/retry-matching", data={"csrf_token": token, "event_type": "order.created"})
    job_url = response.headers["Location"]
    assert re.match(r"/admin/jobs/job_\w+$", job_url)
    broker.join(run_bulk_job.queue_name)
    broker.join(deliver_webhook.queue_name)
    worker.join()
    progress = client.get(job_url + ".json").json
    assert progress["status"] == "done"
    assert (progress["total"], progress["done"], progress["changed"], progress["skipped"]) == (5, 5, 5, {})
    for delivery_id in ids:
        delivery = load(app, delivery_id)
        assert delivery.status is DeliveryStatus.SUCCEEDED
        assert delivery.attempts_list[-1].trigger.value == "bulk"
        job_id = job_url.rsplit("/", 1)[1]
        assert delivery.attempts_list[-1].triggered_by == f"operator@example.com (job {job_id})"
    html = client.get(job_url).get_data(as_text=True)
    # The summary says how the retried rows then turned out, and lists them.
    assert "Of 5 retried:</strong> 5 succeeded, 0 failed." in html
    assert all(f"/admin/log/{delivery_id}#attempt-1" in html for delivery_id in ids)
    with app.app_context():
        (entry,) = db.session.query(AuditEntry).filter_by(action="deliveries.bulk_retry").all()
        assert entry.after["total"] == 5 and entry.after["filters"]["status"] == "failed"
        assert entry.after["filters"]["resolved"] == "0"  # resolved failures are left alone
    assert other not in ids


def test_job_summary_counts_skips_by_reason(app, make_endpoint):
    make_endpoint()
    ids = failed_deliveries(app, 4)
    update(app, Delivery, ids[0], manual_retry_at=utcnow())  # retried by hand a moment ago
    with app.app_context():
        job = bulk.start_bulk_retry(DeliveryFilter(), actor=Actor("ops@example.com"))
        job = bulk.run_bulk_job(job.id, cooldown_seconds=300)
        assert (job.status, job.total, job.done, job.changed) == (JobStatus.DONE, 4, 4, 3)
        assert job.skipped == {"retried by hand in the last 5 min (cooldown)": 1}


def test_a_job_works_in_batches_and_resumes_from_its_cursor(app, make_endpoint, monkeypatch):
    make_endpoint()
    failed_deliveries(app, 5)
    monkeypatch.setattr(bulk, "BATCH_SIZE", 2)
    calls = []
    real = bulk.retry_deliveries

    def crash_on_second_batch(ids, **options):
        calls.append(list(ids))
        if len(calls) == 2:
            raise RuntimeError("worker died")
        return real(ids, **options)

    monkeypatch.setattr(bulk, "retry_deliveries", crash_on_second_batch)
    with app.app_context():
        job_id = bulk.start_bulk_retry(DeliveryFilter(), actor=Actor("ops")).id
        try:
            bulk.run_bulk_job(job_id)
        except RuntimeError:
            db.session.rollback()
        job = db.session.get(BulkJob, job_id)
        assert (job.status, job.done) == (JobStatus.RUNNING, 2)
        job = bulk.run_bulk_job(job_id)  # runs again: carries on after the cursor
        assert (job.status, job.done, job.changed) == (JobStatus.DONE, 5, 5)
        assert [len(batch) for batch in calls] == [2, 2, 2, 1]  # the batch that crashed ran again
        assert db.session.query(Delivery).filter_by(status=DeliveryStatus.FAILED).count() == 0


def test_the_sweep_resumes_a_stalled_job(app, make_endpoint):
    from datetime import timedelta

    from app.delivery.operations.sweep import sweep
    from tasks.broker import queue_depth

    make_endpoint()
    failed_deliveries(app, 1)
    with app.app_context():
        job_id = bulk.start_bulk_retry(DeliveryFilter(), actor=Actor("ops")).id
    update(app, BulkJob, job_id, touched_at=utcnow() - timedelta(minutes=10))
    with app.app_context():
        assert sweep().resumed_jobs == 1
    assert queue_depth(run_bulk_job.queue_name) == 2  # the first start, and the resume


def test_nothing_to_retry_says_so(client, staff, make_endpoint):
    make_endpoint()
    staff("operator")
    html = client.get("/admin/jobs/retry-matching").get_data(as_text=True)
    assert "nothing to retry" in html


def test_a_bulk_job_counts_once_against_the_hourly_cap(app, client, staff, make_endpoint, receiver):
    make_endpoint()
    failed_deliveries(app, 3)
    token = staff("operator")
    with app.app_context():
        from app.staff.settings import set_setting

        set_setting("retry_hourly_cap", 1, actor=Actor("admin"))
    assert client.post("/admin/jobs/retry-matching", data={"csrf_token": token}).status_code == 302
    refused = client.post("/admin/jobs/retry-matching", data={"csrf_token": token}, follow_redirects=True)
    assert "Retry limit reached: 1 of 1" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(BulkJob).count() == 1


def test_job_page_for_an_unknown_job_is_404(client, staff):
    staff("viewer")
    assert client.get("/admin/jobs/job_nope").status_code == 404
    assert client.get("/admin/jobs/job_nope.json").status_code == 404


def test_failed_attempt_outcomes_are_visible_after_a_bulk_retry(app, make_endpoint, receiver):
    make_endpoint()
    ids = failed_deliveries(app, 2)
    receiver.default = Reply(503)
    with app.app_context():
        job = bulk.start_bulk_retry(DeliveryFilter(), actor=Actor("ops"))
        bulk.run_bulk_job(job.id)
        for delivery_id in ids:
            attempt_delivery(delivery_id)
    assert all(load(app, i).status is DeliveryStatus.FAILED for i in ids)  # one attempt each, then failed again
